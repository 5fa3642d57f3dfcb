"""The label state of a training set: from a label matrix to per-label arrays.

:func:`compute_label_state` counts labels and builds what a model asks for
(its requirements, :func:`mmcma.models.label_state_requirements`): label
frequencies straight from the counts, the label graph (with the
normalisation it carries), and label embeddings from a source
(:mod:`mmcma.labels.vectors.sources`). :func:`cached_label_state`
adds a cache of plain ``.npz`` arrays, written atomically and locked, so a
resumed or repeated run and parallel processes fit each state once.
"""
import hashlib
import json
import os
import os.path as osp
import warnings
from dataclasses import dataclass, fields
from typing import Mapping, Optional, Sequence

import numpy as np
import scipy.sparse as sp
from filelock import FileLock

from ..io import ArrayFileError, read_npz, save_npz_atomic
from .adjacency import NORMALIZATIONS
from .graphs import (GRAPH_NORMALIZATION, SPARSE_GRAPH_KINDS,
                     build_label_graph, build_sparse_label_graph,
                     label_counts, sparse_co_counts)
from .graphs.counts import hash_label_matrix
from .knowledge import knowledge_digest
from .square_arrays import (SPARSE_MIN_LABELS, SquareArray, layout_names,
                            sparse_enough, square_from_arrays,
                            square_to_arrays)
from .vectors import (SOURCES_NEEDING_GRAPH, make_label_embedding,
                      split_source_options)

#: Bumped when the computation behind a cached state changes (2: ASGE with a
#: softmax final layer and ``alpha='auto'``; 3: the graph's normalisation is
#: stored; 4: the KS graph normalised after eq. 2 by default; 5: the graph
#: and counts stored dense or COO, :mod:`mmcma.labels.square_arrays`), so
#: old caches are not reused.
CACHE_VERSION = 5

#: The (N, N) arrays, dense or sparse (:mod:`mmcma.labels.square_arrays`).
SQUARE_ARRAYS = ('co_counts', 'graph')

#: The per-label arrays a module can declare, with a short description for
#: messages (the model side: :class:`mmcma.models.LabelStateMixin`).
LABEL_ARRAYS = {
    'embedding': 'label embeddings (N, D)',
    'frequency': 'label frequencies (N,)',
    'graph': 'label graph (N, N)',
}

#: A model's requirements: label array name -> shape, e.g.
#: ``{'embedding': (80, 256), 'frequency': (80,)}``.
Requirements = Mapping[str, Sequence[int]]


@dataclass
class LabelState:
    """Per-label arrays of a training set.

    Attributes:
        classes (np.ndarray): (N,) class names (str).
        num_samples (int): S, the number of training samples.
        counts (np.ndarray): (N,) int64, n_j = samples with label j.
        co_counts (np.ndarray | scipy.sparse.csr_matrix): (N, N) int64
            n_ij, or (0, 0) when no graph was needed; sparse along with a
            sparse graph.
        graph (np.ndarray | scipy.sparse.csr_matrix): (N, N) float64 label
            graph, or (0, 0); sparse for a thresholded kind ('mlgcn',
            'ks') from :data:`~mmcma.labels.square_arrays.SPARSE_MIN_LABELS`
            labels on, unless denser than
            :data:`~mmcma.labels.square_arrays.SPARSE_MAX_DENSITY`.
        graph_normalization (str): The normalisation ``graph`` carries
            (:data:`mmcma.labels.adjacency.NORMALIZATIONS`; ``'none'`` for
            a raw statistical graph or no graph).
        embedding (np.ndarray): (N, D) float32 label embeddings, or (N, 0).
        embedding_loss (float): Final fitting loss (NaN when not fitted).
        key (str): Hash of the labels and options that produced this.
    """
    classes: np.ndarray
    num_samples: int
    counts: np.ndarray
    co_counts: SquareArray
    graph: SquareArray
    graph_normalization: str
    embedding: np.ndarray
    embedding_loss: float
    key: str

    @property
    def frequency(self) -> np.ndarray:
        """(N,) float32 p_k: the fraction of samples with label k."""
        return (self.counts / max(self.num_samples, 1)).astype(np.float32)

    def array(self, name: str) -> Optional[np.ndarray]:
        """The label array ``name`` (``embedding``, ``frequency``, ``graph``),
        or None if it was not computed."""
        if name == 'frequency':
            return self.frequency
        value = getattr(self, name, None)
        if sp.issparse(value):
            return value
        return None if value is None or value.size == 0 else value

    def arrays(self) -> dict:
        """The file's arrays: one per field, the graph and counts dense or
        as COO arrays (:func:`~mmcma.labels.square_arrays.square_to_arrays`).
        """
        arrays = {}
        for field in fields(self):
            value = getattr(self, field.name)
            arrays.update(square_to_arrays(field.name, value)
                          if field.name in SQUARE_ARRAYS else
                          {field.name: np.asarray(value)})
        arrays['classes'] = np.asarray(self.classes, dtype=str)
        return arrays

    def save(self, path: str) -> None:
        """Write :meth:`arrays` to ``path`` (.npz) atomically, readable like
        a new file."""
        save_npz_atomic(path, **self.arrays())

    @classmethod
    def load(cls, path: str) -> 'LabelState':
        """Read a file written by :meth:`save` without pickle.

        Raises:
            MissingFileError: No such file.
            ArrayFileError: Unreadable, truncated, over the size limit
                (:mod:`mmcma.io.arrays`), missing arrays, arrays of another
                kind, inconsistent shapes, sparse indices out of range or
                non-finite values, or a file of an older format (cache
                version 4 or before), naming the file (a ``ValueError``).
        """
        names = [f.name for f in fields(cls)]
        names += [n for square in SQUARE_ARRAYS
                  for n in layout_names(square)[1:]]
        values = read_npz(path, names, 'label state file')
        if 'graph' in values and 'graph_layout' not in values:
            raise ArrayFileError(
                f'{path}: a label state file of an older mmcma (before '
                f'cache version {CACHE_VERSION}: no graph_layout); compute '
                'the state again (cached_label_state does so by itself)')
        missing = [name for name in names if name not in values]
        if missing:
            raise ArrayFileError(f'{path}: not a label state file, {missing} '
                                 f'missing (it holds {sorted(values)})')
        try:
            state = _state_from_arrays(cls, values)
        except (TypeError, ValueError) as e:
            raise ArrayFileError(f'{path}: not a label state file '
                                 f'({type(e).__name__}: {e})') from e
        n = len(state.classes)
        square = ((0, 0), (n, n))
        if state.counts.shape != (n, ) or \
                state.co_counts.shape not in square or \
                state.graph.shape not in square or \
                sp.issparse(state.graph) != sp.issparse(state.co_counts) or \
                state.embedding.ndim != 2 or state.embedding.shape[0] != n:
            raise ArrayFileError(
                f'{path}: inconsistent array shapes (classes '
                f'{state.classes.shape}, counts {state.counts.shape}, '
                f'co_counts {state.co_counts.shape}, graph '
                f'{state.graph.shape}, embedding {state.embedding.shape})')
        graph = state.graph.data if sp.issparse(state.graph) else \
            state.graph
        if not (np.isfinite(graph).all()
                and np.isfinite(state.embedding).all()):
            raise ArrayFileError(f'{path}: the graph or the embedding holds '
                                 'NaN or infinite values')
        if state.graph_normalization not in NORMALIZATIONS:
            raise ArrayFileError(f'{path}: unknown graph normalisation '
                                 f'{state.graph_normalization!r}')
        return state


def _array(values: dict, name: str, kinds: str, ndim=None) -> np.ndarray:
    """``values[name]``, refused unless its dtype kind is in ``kinds`` (and
    it has ``ndim`` dimensions)."""
    array = values[name]
    if array.dtype.kind not in kinds or (ndim is not None
                                         and array.ndim != ndim):
        raise ValueError(f'{name!r} is a {array.ndim}-D {array.dtype} array'
                         f'; expected {"a" if ndim is None else f"{ndim}-D"}'
                         f' array of kind {kinds!r}')
    return array


def _state_from_arrays(cls, values: dict) -> 'LabelState':
    """A :class:`LabelState` from a file's arrays, each of the kind and
    rank :meth:`LabelState.save` writes (``ValueError`` otherwise)."""
    classes = _array(values, 'classes', 'US', 1)
    counts = _array(values, 'counts', 'iu', 1)
    co_counts = square_from_arrays(values, 'co_counts', len(classes), 'iu')
    num_samples = _array(values, 'num_samples', 'iu', 0)
    co_values = co_counts.data if sp.issparse(co_counts) else co_counts
    if (counts < 0).any() or (co_values < 0).any() or num_samples < 0:
        raise ValueError('negative counts')
    return cls(
        classes=classes,
        num_samples=int(num_samples),
        counts=counts,
        co_counts=co_counts,
        graph=square_from_arrays(values, 'graph', len(classes), 'biuf'),
        graph_normalization=str(_array(values, 'graph_normalization', 'US',
                                       0)),
        embedding=_array(values, 'embedding', 'biuf', 2).astype(np.float32),
        embedding_loss=float(_array(values, 'embedding_loss', 'biuf', 0)),
        key=str(_array(values, 'key', 'US', 0)))


def label_state_key(labels: np.ndarray,
                    classes: Sequence[str],
                    requirements: Requirements,
                    graph: Optional[dict] = None,
                    embedding: Optional[dict] = None) -> str:
    """Hash (hex, 16 chars) of everything :func:`compute_label_state`
    depends on (same arguments), including the content of a knowledge
    graph's files (``graph=dict(kind='ks', knowledge=...)``)."""
    options = dict(version=CACHE_VERSION,
                   graph=dict(graph or {}), embedding=dict(embedding or {}),
                   requirements={k: list(v)
                                 for k, v in requirements.items()})
    if options['graph'].get('kind') == 'ks':
        options['knowledge_digest'] = knowledge_digest(
            options['graph'].get('knowledge'))
    h = hashlib.sha256()
    hash_label_matrix(h, labels)  # dense or scipy sparse: the same key
    h.update(json.dumps(dict(classes=list(classes), options=options),
                        sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def _check_requirements(requirements: Requirements, num_labels: int) -> None:
    for name, shape in requirements.items():
        if name not in LABEL_ARRAYS:
            raise ValueError(f'unknown label array {name!r}: choose from '
                             f'{sorted(LABEL_ARRAYS)}')
        if len(shape) == 0 or shape[0] != num_labels:
            raise ValueError(
                f'the model asks for a label {name} of shape '
                f'{tuple(shape)}, but the data have {num_labels} classes')


def compute_label_state(labels: np.ndarray,
                        classes: Sequence[str],
                        requirements: Requirements,
                        graph: Optional[dict] = None,
                        embedding: Optional[dict] = None,
                        progress: bool = True) -> LabelState:
    """Compute the arrays that ``requirements`` name from a label matrix.

    Frequencies always come from the label counts. The label graph (and the
    co-occurrence counts) is built when the requirements ask for it or the
    embedding source needs it; embeddings only when asked for.

    Args:
        labels (np.ndarray): (S, N) binary label matrix of the training set.
        classes (Sequence[str]): N class names.
        requirements (Mapping[str, Sequence[int]]): Array name -> shape, as
            :func:`mmcma.models.label_state_requirements` returns; an
            embedding size ``(N, None)`` takes the source's own size.
        graph (dict, optional): Options of :func:`build_label_graph`
            (``kind`` and its options). Defaults to the conditional graph.
        embedding (dict, optional): The embedding source and its options,
            e.g. ``dict(type='asge', seed=0)`` (default: ASGE),
            ``dict(type='glove')`` or ``dict(type='file', path='emb.npy')``
            (:mod:`mmcma.labels.vectors.sources`).
        progress (bool): Show a progress bar while fitting.

    Returns:
        LabelState: The arrays; ``key`` identifies the inputs.
    """
    # scipy sparse stays so: counts, thresholded graphs by sparse products.
    labels = labels if sp.issparse(labels) else np.asarray(labels)
    if labels.ndim != 2 or labels.shape[1] != len(classes):
        raise ValueError(f'label matrix of shape {labels.shape} does not '
                         f'match {len(classes)} classes')
    _check_requirements(requirements, len(classes))
    key = label_state_key(labels, classes, requirements, graph, embedding)
    source, _ = split_source_options(embedding)
    n = len(classes)
    need_graph = 'graph' in requirements or (
        'embedding' in requirements and source in SOURCES_NEEDING_GRAPH)
    graph = dict(graph or {})
    kind = graph.get('kind', 'conditional')
    if need_graph and kind in SPARSE_GRAPH_KINDS and n >= SPARSE_MIN_LABELS:
        num_samples, counts, co_counts, adjacency = _sparse_graph(
            labels, classes, graph)
    else:
        label_count = label_counts(labels)
        num_samples, counts = label_count.num_images, label_count.counts
        co_counts = label_count.co_counts if need_graph else np.zeros(
            (0, 0), np.int64)
        adjacency = np.asarray(build_label_graph(
            label_count, classes=classes, **graph)) \
            if need_graph else np.zeros((0, 0))
    normalization = GRAPH_NORMALIZATION[kind] if need_graph else 'none'
    vectors, loss = np.zeros((n, 0), np.float32), float('nan')
    if 'embedding' in requirements:
        dim = requirements['embedding'][1]  # None: the source's own size
        dense = adjacency.toarray() if sp.issparse(adjacency) else adjacency
        vectors, loss = make_label_embedding(
            dense if need_graph else None, classes,
            None if dim is None else int(dim), embedding, progress,
            labels=labels)
    return LabelState(
        classes=np.asarray(list(classes), dtype=str),
        num_samples=int(num_samples),
        counts=counts,
        co_counts=co_counts,
        graph=adjacency,
        graph_normalization=normalization,
        embedding=vectors,
        embedding_loss=loss,
        key=key)


def _sparse_graph(labels: np.ndarray, classes: Sequence[str],
                  graph: dict) -> tuple:
    """``(num_samples, counts, co_counts, graph)`` of a thresholded graph
    kind built sparse (:func:`build_sparse_label_graph`); both dense again
    if the graph is denser than
    :data:`~mmcma.labels.square_arrays.SPARSE_MAX_DENSITY`."""
    options = {k: v for k, v in graph.items() if k != 'kind'}
    adjacency = build_sparse_label_graph(labels, graph['kind'],
                                         classes=classes, **options)
    co_counts = sparse_co_counts(labels)
    counts = co_counts.diagonal().astype(np.int64)
    if not sparse_enough(adjacency):
        adjacency, co_counts = adjacency.toarray(), co_counts.toarray()
    return labels.shape[0], counts, co_counts, adjacency


def cached_label_state(labels: np.ndarray,
                       classes: Sequence[str],
                       requirements: Requirements,
                       graph: Optional[dict] = None,
                       embedding: Optional[dict] = None,
                       cache_dir: Optional[str] = None,
                       progress: bool = True) -> LabelState:
    """:func:`compute_label_state`, reusing ``cache_dir/{key}.npz``.

    The file is locked while it is computed, so parallel processes asking
    for the same state compute it once; a corrupt, truncated or mismatching
    file is recomputed with a warning. Without ``cache_dir`` this is
    :func:`compute_label_state`.
    """
    if cache_dir is None:
        return compute_label_state(labels, classes, requirements, graph,
                                   embedding, progress)
    key = label_state_key(labels, classes, requirements, graph, embedding)
    path = osp.join(cache_dir, f'{key}.npz')
    os.makedirs(cache_dir, exist_ok=True)
    with FileLock(path + '.lock'):
        if osp.exists(path):
            try:
                state = LabelState.load(path)
                if state.key != key:
                    raise ValueError(f'{path}: made for other labels or '
                                     'options')
                return state
            except ValueError as e:
                warnings.warn(f'label state cache unusable, recomputing: {e}')
        state = compute_label_state(labels, classes, requirements, graph,
                                    embedding, progress)
        state.save(path)
    return state


def describe(state: LabelState, seconds: Optional[float] = None) -> str:
    """A short human-readable report of a :class:`LabelState`."""
    n = len(state.classes)
    lines = [
        f'labels: {n}   samples: {state.num_samples}   labels per sample: '
        f'{state.counts.sum() / max(state.num_samples, 1):.2f}   never '
        f'seen: {int((state.counts == 0).sum())}'
    ]
    if sp.issparse(state.graph):
        coo = state.graph.tocoo()
        edges = int(((coo.row != coo.col) & (coo.data > 0)).sum())
        lines.append(f'graph edges (i != j, weight > 0): {edges} of '
                     f'{n * (n - 1)} (stored sparse)')
    elif state.graph.size:
        off = state.graph[~np.eye(n, dtype=bool)]
        lines.append(f'graph edges (i != j, weight > 0): '
                     f'{int((off > 0).sum())} of {n * (n - 1)}')
    if state.embedding.size:
        # Read or looked-up vectors (GloVe, a file) have no fitting loss.
        fitted = ('' if np.isnan(state.embedding_loss) else
                  f'   final fitting loss: {state.embedding_loss:.6f}')
        lines.append(f'embeddings: {state.embedding.shape}{fitted}')
    if seconds is not None:
        lines.append(f'time: {seconds:.2f} s')
    return '\n'.join(lines)
