"""Where label embeddings come from: fitted to the label graph, or a file.

A source is chosen by the ``embedding`` options of the label state (the
``LabelStateHook`` config, :func:`~mmcma.embedding.compute_label_state`):

- ``dict(type='asge', **fit_options)``: ASGE fitted to the label graph
  (:func:`~mmcma.embedding.fit_asge`; the default);
- ``dict(type='file', path='emb.npy')``: an (N, D) array from ``.npy`` or
  ``.npz``, validated where it enters.
"""
import os.path as osp
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from .asge import fit_asge

#: (embedding (N, D) float32, final fitting loss or NaN)
SourceResult = Tuple[np.ndarray, float]


def check_embedding(array: np.ndarray, num_labels: int,
                    embed_dim: Optional[int], origin: str) -> np.ndarray:
    """Validate an (N, D) label-embedding matrix; return it as float32.

    Raises:
        ValueError: Wrong shape, NaN or inf, or an all-zero row (a label
            with a zero embedding has cosine 0 with everything, so attention
            would silently ignore it), naming ``origin``.
    """
    array = np.asarray(array)
    if array.ndim != 2 or array.shape[0] != num_labels:
        raise ValueError(f'{origin}: expected an array of shape '
                         f'({num_labels}, D) for {num_labels} labels, got '
                         f'{array.shape}')
    if embed_dim is not None and array.shape[1] != embed_dim:
        raise ValueError(f'{origin}: the model expects {embed_dim}-d label '
                         f'embeddings, got {array.shape[1]}-d')
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f'{origin}: expected numbers, got {array.dtype}')
    if not np.isfinite(array).all():
        raise ValueError(f'{origin}: contains NaN or inf')
    zero = np.flatnonzero(~array.any(axis=1))
    if len(zero):
        raise ValueError(f'{origin}: {len(zero)} all-zero rows (labels '
                         f'{zero[:10].tolist()}{"..." if len(zero) > 10 else ""}'
                         '); every label needs a non-zero embedding')
    return array.astype(np.float32)


def load_embedding_file(path: str, num_labels: int,
                        embed_dim: Optional[int] = None) -> np.ndarray:
    """Read an (N, D) embedding matrix from ``.npy`` or ``.npz`` (no pickle).

    A ``.npz`` must hold one array, or an array named ``embeddings``.

    Raises:
        FileNotFoundError: No such file.
        ValueError: Unreadable, or see :func:`check_embedding`.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'label embedding file not found: {path}')
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise ValueError(f'{path}: cannot read as .npy/.npz '
                         f'({type(e).__name__}: {e})') from e
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            if 'embeddings' in data.files:
                array = data['embeddings']
            elif len(data.files) == 1:
                array = data[data.files[0]]
            else:
                raise ValueError(
                    f'{path}: holds {data.files}; name the embedding array '
                    '"embeddings"')
    else:
        array = data
    return check_embedding(array, num_labels, embed_dim, path)


def _asge_source(graph: Optional[np.ndarray], classes: Sequence[str],
                 embed_dim: int, progress: bool, **options) -> SourceResult:
    result = fit_asge(graph, embed_dim=embed_dim, progress=progress,
                      **options)
    return result.embeddings, float(result.loss)


def _file_source(graph: Optional[np.ndarray], classes: Sequence[str],
                 embed_dim: int, progress: bool, path: str) -> SourceResult:
    return load_embedding_file(path, len(classes), embed_dim), float('nan')


#: Embedding sources by ``type``: (graph, classes, embed_dim, progress,
#: **options) -> (embedding, loss). ``needs_graph`` says which use the graph.
EMBEDDING_SOURCES: Dict[str, Callable[..., SourceResult]] = {
    'asge': _asge_source,
    'file': _file_source,
}
SOURCES_NEEDING_GRAPH = ('asge', )


def split_source_options(options: Optional[dict]) -> Tuple[str, dict]:
    """``(type, options)`` of an ``embedding`` dict; ASGE by default."""
    options = dict(options or {})
    kind = options.pop('type', 'asge')
    if kind not in EMBEDDING_SOURCES:
        raise ValueError(f'unknown label embedding source {kind!r}: choose '
                         f'from {sorted(EMBEDDING_SOURCES)}')
    return kind, options


def make_label_embedding(graph: Optional[np.ndarray],
                         classes: Sequence[str],
                         embed_dim: int,
                         options: Optional[dict] = None,
                         progress: bool = True) -> SourceResult:
    """Label embeddings (N, D) from the source that ``options`` names.

    Args:
        graph (np.ndarray, optional): (N, N) label graph (sources in
            :data:`SOURCES_NEEDING_GRAPH` need it).
        classes (Sequence[str]): N class names.
        embed_dim (int): D.
        options (dict, optional): ``dict(type=..., **source_options)``.
        progress (bool): Show a progress bar while fitting.

    Returns:
        tuple: Validated float32 embeddings (N, D) and the final fitting
        loss (NaN for sources that fit nothing).
    """
    kind, options = split_source_options(options)
    if kind in SOURCES_NEEDING_GRAPH and graph is None:
        raise ValueError(f'the {kind!r} embedding source needs the label '
                         'graph')
    embedding, loss = EMBEDDING_SOURCES[kind](graph, classes, embed_dim,
                                              progress, **options)
    if kind != 'file':  # files are checked (and named) as they are read
        embedding = check_embedding(embedding, len(classes), embed_dim,
                                    f'{kind} label embeddings')
    return embedding, loss
