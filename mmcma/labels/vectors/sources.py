"""Where label embeddings come from: fitted to the label graph, class-name
word vectors, or a file.

A source is chosen by the ``embedding`` options of the label state (the
``LabelStateHook`` config, :func:`~mmcma.labels.compute_label_state`):

- ``dict(type='asge', **fit_options)``: ASGE fitted to the label graph
  (:func:`~mmcma.labels.fit_asge`; the default);
- ``dict(type='glove', synonyms=None)``: GloVe 6B 50-d vectors of the class
  names (:func:`~mmcma.labels.vectors.word_vectors.glove_label_vectors`);
- ``dict(type='sentence', synonyms=None, device='cpu')``: all-MiniLM-L6-v2
  (384-d) embeddings of the class names;
- ``dict(type='file', path=..., synonyms=None)``: an (N, D) array from
  ``.npy`` or ``.npz`` (an ``.npz`` with ``classes`` has its rows matched to
  the class list by name), or the class names looked up in a GloVe/word2vec text file
  (``.txt``, ``.vec``, optionally ``.gz``), validated where it enters;
- ``dict(type='word2vec', **fit_options)``: skip-gram vectors learned from
  the training label sets read as sentences (MS-CMA's W2V-MS-CMA ablation,
  :func:`~mmcma.labels.vectors.word2vec.fit_word2vec`).

``glove`` and ``sentence`` need the optional packages of
``pip install 'mmcma[vectors]'``; nothing is downloaded at run time.
"""
from typing import Callable, Dict, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp

from ...io import (InputFileError, InputOptionError, check_call_options,
                   check_choice, check_option_names, keyword_names,
                   read_array_file)
from ..names import class_rows
from .asge import fit_asge
from .word2vec import fit_word2vec
from .word_vectors import (glove_label_vectors, sentence_label_vectors,
                           text_file_label_vectors)

#: (embedding (N, D) float32, final fitting loss or NaN)
SourceResult = Tuple[np.ndarray, float]


def check_embedding(array: np.ndarray, num_labels: int,
                    embed_dim: Optional[int], origin: str) -> np.ndarray:
    """Validate an (N, D) label-embedding matrix; return it as float32.

    Raises:
        InputFileError: Wrong shape, NaN or inf, or an all-zero row (a label
            with a zero embedding has cosine 0 with everything, so attention
            would silently ignore it), naming ``origin``.
    """
    array = np.asarray(array)
    if array.ndim != 2 or array.shape[0] != num_labels:
        raise InputFileError(f'{origin}: expected an array of shape '
                             f'({num_labels}, D) for {num_labels} labels, got '
                             f'{array.shape}')
    if embed_dim is not None and array.shape[1] != embed_dim:
        raise InputFileError(
            f'{origin}: the model expects {embed_dim}-d label '
            f'embeddings, got {array.shape[1]}-d')
    if not np.issubdtype(array.dtype, np.number):
        raise InputFileError(f'{origin}: expected numbers, got {array.dtype}')
    if not np.isfinite(array).all():
        raise InputFileError(f'{origin}: contains NaN or inf')
    zero = np.flatnonzero(~array.any(axis=1))
    if len(zero):
        more = '...' if len(zero) > 10 else ''
        raise InputFileError(f'{origin}: {len(zero)} all-zero rows (labels '
                             f'{zero[:10].tolist()}{more}); every label '
                             'needs a non-zero embedding')
    return array.astype(np.float32)


#: Extensions of word-vector text files (GloVe, word2vec, fastText).
TEXT_VECTOR_SUFFIXES = ('.txt', '.vec', '.txt.gz', '.vec.gz')
#: Names an ``.npz`` may give its (N, D) array, in order of preference:
#: ``embedding`` is what :class:`~mmcma.labels.LabelState` files hold.
NPZ_EMBEDDING_KEYS = ('embeddings', 'embedding')


def load_embedding_file(path: str,
                        num_labels: int,
                        embed_dim: Optional[int] = None,
                        classes: Optional[Sequence[str]] = None
                        ) -> np.ndarray:
    """Read an (N, D) embedding matrix from ``.npy`` or ``.npz`` (no pickle).

    A ``.npz`` must hold one array, or an array named ``embeddings`` or
    ``embedding`` (files of ``tools/build_label_graph.py`` and
    ``tools/convert_mlgcn_files.py``). If it also holds ``classes`` and
    ``classes`` is given, rows are matched to ``classes`` by name (files in
    another class order, such as ML-GCN's alphabetical COCO order, fit), and
    the two sets of names must be equal.

    Raises:
        MissingFileError: No such file.
        InputFileError: Unreadable, over the size limit
            (:func:`mmcma.io.read_array_file`), other classes, or see
            :func:`check_embedding`.
    """
    data = read_array_file(path, what='label embedding file')
    if isinstance(data, dict):
        names = [k for k in NPZ_EMBEDDING_KEYS if k in data]
        others = [k for k in data if k != 'classes']
        if names:
            array = data[names[0]]
        elif len(others) == 1:
            array = data[others[0]]
        else:
            raise InputFileError(
                f'{path}: holds {sorted(data)}; name the embedding array '
                '"embeddings"')
        if classes is not None and 'classes' in data:
            if data['classes'].shape != (array.shape[:1]):
                raise InputFileError(
                    f'{path}: {data["classes"].shape} classes for '
                    f'{array.shape[:1]} embedding rows')
            array = array[class_rows(path, data['classes'], classes)]
    else:
        array = data
    if array.ndim == 2 and array.shape[1] == 0:
        raise InputFileError(f'{path}: holds no label vectors (0 columns)')
    return check_embedding(array, num_labels, embed_dim, path)


class SourceInputs(NamedTuple):
    """What every embedding source is given besides its options.

    Attributes:
        graph (np.ndarray, optional): (N, N) label graph
            (:data:`SOURCES_NEEDING_GRAPH`).
        labels (np.ndarray, optional): (S, N) training label matrix
            (:data:`SOURCES_NEEDING_LABELS`).
        classes (Sequence[str]): N class names.
        embed_dim (int, optional): D; None: the source's own size.
        progress (bool): Show a progress bar while fitting.
    """

    graph: Optional[np.ndarray]
    labels: Optional[np.ndarray]
    classes: Sequence[str]
    embed_dim: Optional[int]
    progress: bool


def _fitted_size(inputs: SourceInputs, options: dict) -> dict:
    """``options`` with the model's embedding size, if it asks for one."""
    if inputs.embed_dim is not None:
        options['embed_dim'] = inputs.embed_dim
    return options


def _asge_source(inputs: SourceInputs, **options) -> SourceResult:
    result = fit_asge(inputs.graph, progress=inputs.progress,
                      **_fitted_size(inputs, options))
    return result.embeddings, float(result.loss)


def _word2vec_source(inputs: SourceInputs, **options) -> SourceResult:
    result = fit_word2vec(inputs.labels, progress=inputs.progress,
                          **_fitted_size(inputs, options))
    return result.embeddings, float(result.loss)


def _file_source(inputs: SourceInputs,
                 path: str,
                 synonyms: Optional[Dict[str, str]] = None) -> SourceResult:
    classes, embed_dim = inputs.classes, inputs.embed_dim
    if path.endswith(TEXT_VECTOR_SUFFIXES):
        vectors = text_file_label_vectors(path, classes, synonyms)
        return check_embedding(vectors, len(classes), embed_dim,
                               path), float('nan')
    if synonyms is not None:
        raise InputOptionError(
            f'{path}: synonyms apply to word-vector text files '
            f'({", ".join(TEXT_VECTOR_SUFFIXES)}), not to arrays')
    return load_embedding_file(path, len(classes), embed_dim,
                               classes), float('nan')


def _glove_source(inputs: SourceInputs,
                  synonyms: Optional[Dict[str, str]] = None) -> SourceResult:
    return glove_label_vectors(inputs.classes, synonyms), float('nan')


def _sentence_source(inputs: SourceInputs,
                     synonyms: Optional[Dict[str, str]] = None,
                     device: str = 'cpu') -> SourceResult:
    return sentence_label_vectors(inputs.classes, synonyms,
                                  device), float('nan')


#: Embedding sources by ``type``: (SourceInputs, **options) -> (embedding,
#: loss). :data:`SOURCES_NEEDING_GRAPH` say which use the graph,
#: :data:`SOURCES_NEEDING_LABELS` which the training label matrix.
EMBEDDING_SOURCES: Dict[str, Callable[..., SourceResult]] = {
    'asge': _asge_source,
    'file': _file_source,
    'glove': _glove_source,
    'sentence': _sentence_source,
    'word2vec': _word2vec_source,
}
SOURCES_NEEDING_GRAPH = ('asge', )
SOURCES_NEEDING_LABELS = ('word2vec', )
#: The functions whose keyword options fitted sources take (all but the
#: ones the source fills: the input, ``embed_dim``, ``progress``).
FIT_FUNCTIONS = {'asge': fit_asge, 'word2vec': fit_word2vec}


def split_source_options(options: Optional[dict]) -> Tuple[str, dict]:
    """``(type, options)`` of an ``embedding`` dict; ASGE by default."""
    options = dict(options or {})
    kind = options.pop('type', 'asge')
    check_choice('label embedding source type', kind,
                 sorted(EMBEDDING_SOURCES))
    return kind, options


def make_label_embedding(graph: Optional[np.ndarray],
                         classes: Sequence[str],
                         embed_dim: Optional[int],
                         options: Optional[dict] = None,
                         progress: bool = True,
                         labels: Optional[np.ndarray] = None
                         ) -> SourceResult:
    """Label embeddings (N, D) from the source that ``options`` names.

    Args:
        graph (np.ndarray, optional): (N, N) label graph (sources in
            :data:`SOURCES_NEEDING_GRAPH` need it).
        classes (Sequence[str]): N class names.
        embed_dim (int, optional): D; None takes the source's own size
            (ASGE: its default).
        options (dict, optional): ``dict(type=..., **source_options)``.
        progress (bool): Show a progress bar while fitting.
        labels (np.ndarray, optional): (S, N) training label matrix
            (sources in :data:`SOURCES_NEEDING_LABELS` need it).

    Returns:
        tuple: Validated float32 embeddings (N, D) and the final fitting
        loss (NaN for sources that fit nothing).
    """
    kind, options = split_source_options(options)
    what = f'label embedding source {kind!r}'
    check_call_options(EMBEDDING_SOURCES[kind], options, what, skip=1)
    if kind in FIT_FUNCTIONS:  # their options are the fit function's
        check_option_names(options, [
            name for name in keyword_names(FIT_FUNCTIONS[kind], skip=1)
            if name not in ('embed_dim', 'progress')], what)
    if kind in SOURCES_NEEDING_GRAPH and graph is None:
        raise ValueError(f'the {kind!r} embedding source needs the label '
                         'graph')
    if kind in SOURCES_NEEDING_LABELS and labels is None:
        raise ValueError(f'the {kind!r} embedding source needs the '
                         'training label matrix')
    if sp.issparse(labels):  # word2vec's skip-gram pairs read it dense
        labels = labels.toarray()
    inputs = SourceInputs(graph, labels, classes, embed_dim, progress)
    embedding, loss = EMBEDDING_SOURCES[kind](inputs, **options)
    if kind != 'file':  # files are checked (and named) as they are read
        embedding = check_embedding(embedding, len(classes), embed_dim,
                                    f'{kind} label embeddings')
    return embedding, loss
