"""From a label matrix to label statistics, the label graph and embeddings.

One function, :func:`compute_label_semantics`, serves the pre-run hook
(:class:`mmcma.engine.hooks.LabelEmbeddingHook`) and the command line tool
``tools/build_label_graph.py``. Results are stored as plain ``.npz`` arrays and
read back without pickle.
"""
import hashlib
import json
import os
import os.path as osp
import tempfile
from dataclasses import asdict, dataclass, fields
from typing import Optional, Sequence

import numpy as np

from .embedding import fit_asge
from .graph import build_label_graph, label_counts


@dataclass
class LabelSemantics:
    """What the label graph stage produces for a training set.

    Attributes:
        classes (np.ndarray): (N,) class names (str).
        num_images (int): S, the number of training samples.
        counts (np.ndarray): (N,) int64, n_j = samples with label j.
        co_counts (np.ndarray): (N, N) int64, n_ij = samples with i and j.
        adjacency (np.ndarray): (N, N) float, the label graph.
        embeddings (np.ndarray): (N, D) float32 label embeddings.
        embedding_loss (float): Final mean ASGE loss (NaN when the embeddings
            were read from a file).
        key (str): Hash of the labels and the options that produced this.
    """
    classes: np.ndarray
    num_images: int
    counts: np.ndarray
    co_counts: np.ndarray
    adjacency: np.ndarray
    embeddings: np.ndarray
    embedding_loss: float
    key: str

    @property
    def label_freq(self) -> np.ndarray:
        """(N,) float32 p_k: the fraction of samples with label k."""
        return (self.counts / max(self.num_images, 1)).astype(np.float32)

    def save(self, path: str) -> None:
        """Write to ``path`` (.npz) atomically: a crash leaves no half file."""
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix='.npz')
        os.close(fd)
        try:
            arrays = {k: np.asarray(v) for k, v in asdict(self).items()}
            arrays['classes'] = np.asarray(self.classes, dtype=str)
            np.savez(tmp, **arrays)
            os.replace(tmp, path)
        finally:
            if osp.exists(tmp):
                os.remove(tmp)

    @classmethod
    def load(cls, path: str) -> 'LabelSemantics':
        """Read a file written by :meth:`save`; ``ValueError`` if invalid."""
        try:
            with np.load(path, allow_pickle=False) as data:
                values = {f.name: data[f.name] for f in fields(cls)}
        except (OSError, KeyError, ValueError, EOFError) as e:
            raise ValueError(f'{path}: not a readable label semantics file '
                             f'({type(e).__name__}: {e})') from e
        sem = cls(
            classes=values['classes'],
            num_images=int(values['num_images']),
            counts=values['counts'],
            co_counts=values['co_counts'],
            adjacency=values['adjacency'],
            embeddings=values['embeddings'].astype(np.float32),
            embedding_loss=float(values['embedding_loss']),
            key=str(values['key']))
        n = len(sem.classes)
        if sem.counts.shape != (n, ) or sem.co_counts.shape != (n, n) or \
                sem.adjacency.shape != (n, n) or sem.embeddings.ndim != 2 or \
                sem.embeddings.shape[0] != n:
            raise ValueError(f'{path}: inconsistent array shapes')
        if not (np.isfinite(sem.adjacency).all()
                and np.isfinite(sem.embeddings).all()):
            raise ValueError(f'{path}: non-finite values')
        return sem


def semantics_key(labels: np.ndarray,
                  classes: Sequence[str],
                  embed_dim: int,
                  graph: Optional[dict] = None,
                  asge: Optional[dict] = None,
                  embedding_file: Optional[str] = None) -> str:
    """Hash (hex, 16 chars) of what :func:`compute_label_semantics` depends
    on: the label matrix, class names and options (same arguments)."""
    options = dict(graph=dict(graph or {}), asge=dict(asge or {}),
                   embed_dim=embed_dim, embedding_file=embedding_file)
    labels = np.ascontiguousarray(labels, dtype=np.uint8)
    h = hashlib.sha256()
    h.update(np.asarray(labels.shape, np.int64).tobytes())
    h.update(np.packbits(labels).tobytes())
    h.update(json.dumps(
        dict(classes=list(classes), options=options),
        sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def load_embedding_file(path: str, num_labels: int,
                        embed_dim: Optional[int] = None) -> np.ndarray:
    """Read an (N, D) embedding matrix from ``.npy`` or ``.npz``.

    A ``.npz`` must hold one array, or an array named ``embeddings``.

    Raises:
        ValueError: wrong format, shape or non-finite values, naming the file.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'label embedding file not found: {path}')
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError(f'{path}: cannot read as .npy/.npz ({e})') from e
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
    if array.ndim != 2 or array.shape[0] != num_labels:
        raise ValueError(f'{path}: expected an array of shape ({num_labels}, '
                         f'D) for {num_labels} labels, got {array.shape}')
    if embed_dim is not None and array.shape[1] != embed_dim:
        raise ValueError(f'{path}: the model expects {embed_dim}-d label '
                         f'embeddings, the file has {array.shape[1]}-d')
    if not np.isfinite(array).all():
        raise ValueError(f'{path}: contains NaN or inf')
    return array.astype(np.float32)


def compute_label_semantics(labels: np.ndarray,
                            classes: Sequence[str],
                            embed_dim: int,
                            graph: Optional[dict] = None,
                            asge: Optional[dict] = None,
                            embedding_file: Optional[str] = None,
                            progress: bool = True) -> LabelSemantics:
    """Count labels, build the graph and fit (or read) label embeddings.

    Args:
        labels (np.ndarray): (S, N) binary label matrix of the training set.
        classes (Sequence[str]): N class names.
        embed_dim (int): D, the embedding size the model expects.
        graph (dict, optional): Options of :func:`build_label_graph`
            (``kind`` and its options). Defaults to the conditional graph.
        asge (dict, optional): Options of :func:`fit_asge` (``alpha``,
            ``seed``, ...).
        embedding_file (str, optional): Read the embeddings from this
            ``.npy``/``.npz`` instead of fitting ASGE.
        progress (bool): Show the ASGE progress bar.

    Returns:
        LabelSemantics: counts, graph and embeddings; ``key`` identifies the
        inputs (see :func:`semantics_key`).
    """
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.shape[1] != len(classes):
        raise ValueError(f'label matrix of shape {labels.shape} does not '
                         f'match {len(classes)} classes')
    key = semantics_key(labels, classes, embed_dim, graph, asge,
                        embedding_file)
    graph = dict(graph or {})
    asge = dict(asge or {})
    counts = label_counts(labels)
    adjacency = build_label_graph(counts, **graph)
    if embedding_file is not None:
        embeddings = load_embedding_file(embedding_file, len(classes),
                                         embed_dim)
        loss = float('nan')
    else:
        result = fit_asge(adjacency, embed_dim=embed_dim, progress=progress,
                          **asge)
        embeddings, loss = result.embeddings, float(result.loss)
    return LabelSemantics(
        classes=np.asarray(list(classes), dtype=str),
        num_images=int(counts.num_images),
        counts=counts.counts,
        co_counts=counts.co_counts,
        adjacency=np.asarray(adjacency),
        embeddings=np.asarray(embeddings, dtype=np.float32),
        embedding_loss=loss,
        key=key)


def describe(sem: LabelSemantics, seconds: Optional[float] = None) -> str:
    """A short human-readable report of a :class:`LabelSemantics`."""
    n = len(sem.classes)
    off = sem.adjacency[~np.eye(n, dtype=bool)]
    lines = [
        f'labels: {n}   samples: {sem.num_images}   labels per sample: '
        f'{sem.counts.sum() / max(sem.num_images, 1):.2f}',
        f'never seen: {int((sem.counts == 0).sum())}   graph edges (i != j, '
        f'weight > 0): {int((off > 0).sum())} of {n * (n - 1)}',
        f'embeddings: {sem.embeddings.shape}   final ASGE loss: '
        f'{sem.embedding_loss:.6f}',
    ]
    if seconds is not None:
        lines.append(f'time: {seconds:.2f} s')
    return '\n'.join(lines)

