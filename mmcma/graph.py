"""Label statistics and label graphs built from training annotations.

A dataset's annotations are an ``(S, N)`` binary matrix ``Y`` (S samples,
N labels). Every graph here depends on ``Y`` only through

* ``n_j``  = number of samples with label ``j`` (column sums of ``Y``), and
* ``n_ij`` = number of samples with both ``i`` and ``j`` (``Y^T Y``),

which :func:`label_counts` computes with one (sparse-aware) matrix product.
:func:`build_label_graph` turns the counts into an ``(N, N)`` float64 graph.

Graph kinds:

* ``'conditional'`` (MS-CMA, used to fit ASGE label embeddings):
  ``A_ij = P(i | j) = n_ij / n_j``, symmetrised by default.
* ``'mlgcn'`` (ML-GCN, also KSSNet's statistical graph): row-wise
  ``P(j | i) = n_ij / n_i`` binarised at ``t`` and re-weighted, either as
  written in the ML-GCN paper or as in ML-GCN's released code.
* ``'ks'`` (KSSNet): the ML-GCN graph superimposed with a knowledge graph
  over the class names (:mod:`mmcma.graph_ks`, :mod:`mmcma.knowledge`);
  needs the class names.

Positives only: a VOC "difficult" label (0 in the ``ImageSets`` files) should
be given to these functions as 0, i.e. counted as not present, as ML-GCN does.
"""
import inspect
import numbers
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence, Union

import numpy as np
import scipy.sparse as sp

from .graph_ks import ks_superimpose

LabelMatrix = Union[np.ndarray, sp.spmatrix, sp.sparray]

MLGCN_VARIANTS = ('paper', 'released')

# Re-weighting of ML-GCN's neighbours when ``p`` is not given.
_MLGCN_DEFAULT_P = {'paper': 0.2, 'released': 0.25}
# ML-GCN's released ``gen_A`` adds this to the column sums before dividing.
_MLGCN_RELEASED_EPS = 1e-6


@dataclass(frozen=True)
class LabelCounts:
    """Label occurrence and co-occurrence counts of a label matrix.

    Attributes:
        num_images (int): Number of samples ``S`` (rows of the label matrix).
        counts (np.ndarray): ``(N,)`` int64, ``n_j`` = samples with label j.
        co_counts (np.ndarray): ``(N, N)`` int64, symmetric,
            ``n_ij`` = samples with both labels i and j; its diagonal is
            ``counts``.
    """

    num_images: int
    counts: np.ndarray
    co_counts: np.ndarray

    @property
    def num_labels(self) -> int:
        """int: Number of labels ``N``."""
        return int(self.counts.shape[0])


def _check_binary(values: np.ndarray) -> None:
    """Raise ``ValueError`` unless every entry of ``values`` is 0 or 1."""
    if values.dtype == np.bool_:
        return
    if not np.issubdtype(values.dtype, np.number):
        raise ValueError('labels must be numeric or boolean, got dtype '
                         f'{values.dtype}')
    if np.issubdtype(values.dtype, np.inexact) and np.isnan(values).any():
        raise ValueError('labels contain NaN')
    invalid = (values != 0) & (values != 1)
    if invalid.any():
        raise ValueError('labels must be 0/1 (positives only: map VOC '
                         'difficult 0 and negative -1 to 0), found '
                         f'{values[invalid][0].item()!r}')


def label_counts(labels: LabelMatrix) -> LabelCounts:
    """Count label occurrences and co-occurrences with one matrix product.

    Dense input is converted to CSR first: ``Y^T Y`` is then a sparse
    product of cost ``O(nnz * labels per sample)``, single-threaded, and
    exact in int64.

    Args:
        labels (np.ndarray | scipy.sparse matrix/array): ``(S, N)`` binary
            label matrix (bool, or integers/floats equal to 0 or 1).

    Returns:
        LabelCounts: ``counts`` (N,) and ``co_counts = Y^T Y`` (N, N), int64.

    Raises:
        ValueError: If ``labels`` is not 2-D or holds values other than 0/1
            (including NaN).
    """
    if not sp.issparse(labels):
        labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError('labels must be 2-D (samples, labels), got shape '
                         f'{labels.shape}')
    if isinstance(labels, np.ndarray):
        _check_binary(labels)
        matrix = sp.csr_matrix(labels)
    else:
        matrix = sp.csr_matrix(labels)
        matrix.sum_duplicates()
        _check_binary(matrix.data)
    matrix = matrix.astype(np.int64)
    co_counts = np.asarray((matrix.T @ matrix).toarray(), dtype=np.int64)
    return LabelCounts(
        num_images=int(matrix.shape[0]),
        counts=np.diagonal(co_counts).copy(),
        co_counts=co_counts)


def _is_real(value) -> bool:
    """Whether ``value`` is a real number (bool excluded)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _divide_or_zero(numerator: np.ndarray,
                    denominator: np.ndarray) -> np.ndarray:
    """Elementwise ``numerator / denominator`` with 0 where the latter is 0."""
    numerator, denominator = np.broadcast_arrays(
        np.asarray(numerator, dtype=np.float64),
        np.asarray(denominator, dtype=np.float64))
    return np.divide(
        numerator,
        denominator,
        out=np.zeros(numerator.shape, dtype=np.float64),
        where=denominator != 0)


def conditional_graph(counts: LabelCounts,
                      symmetric: bool = True) -> np.ndarray:
    """The conditional-probability graph of MS-CMA.

    ``A_ij = P(label i | label j) = n_ij / n_j``: column ``j`` is conditioned
    on label ``j``. With ``symmetric=True`` (what ASGE fits) the result is
    ``(A + A^T) / 2``. The diagonal is 1.

    Unseen labels (``n_j = 0``): ``P(. | j)`` is undefined, so column ``j``
    is 0 off the diagonal; row ``j`` is 0 as well because ``n_ij = 0``. The
    label is thus isolated, with ``A_jj = 1`` and never NaN or inf.

    Args:
        counts (LabelCounts): Counts from :func:`label_counts`.
        symmetric (bool): Return ``(A + A^T) / 2``. Defaults to True.

    Returns:
        np.ndarray: ``(N, N)`` float64 graph with entries in ``[0, 1]``.
    """
    if not isinstance(symmetric, (bool, np.bool_)):
        raise ValueError(f'symmetric must be a bool, got {symmetric!r}')
    graph = _divide_or_zero(counts.co_counts, counts.counts[None, :])
    if symmetric:
        graph = (graph + graph.T) / 2
    np.fill_diagonal(graph, 1.0)
    return graph


def mlgcn_graph(counts: LabelCounts,
                t: float = 0.4,
                p: Optional[float] = None,
                variant: str = 'paper') -> np.ndarray:
    """ML-GCN's re-weighted, binarised conditional graph.

    Both variants start from the row-wise conditional probability
    ``P_ij = P(j | i) = n_ij / n_i`` over pairs ``i != j`` (ML-GCN counts
    co-occurrences of distinct labels only, so the diagonal is excluded), and
    binarise it: ``B_ij = 1 if P_ij >= t else 0``. Unseen labels (``n_i = 0``)
    have no edges. Then:

    * ``variant='paper'`` (ML-GCN paper, eq. 8): each row is re-weighted,
      ``A'_ij = p * B_ij / sum_{k != i} B_ik`` for ``i != j`` and
      ``A'_ii = 1 - p``. Default ``p = 0.2``. A row without edges keeps only
      its diagonal ``1 - p``.
    * ``variant='released'`` (ML-GCN's public ``gen_A``): each *column* is
      re-weighted, ``A'_ij = p * B_ij / (sum_k B_kj + 1e-6)``, and the
      identity is added, so ``A'_ii = 1``. Default ``p = 0.25``. The
      ``1e-6`` is kept so that the values match that code.

    ML-GCN normalises the graph again inside its GCN; that step belongs to
    the model, not here.

    Args:
        counts (LabelCounts): Counts from :func:`label_counts`.
        t (float): Binarisation threshold in ``(0, 1]``. Defaults to 0.4.
        p (float, optional): Total weight given to the neighbours, in
            ``[0, 1]``. Defaults to 0.2 (paper) or 0.25 (released).
        variant (str): ``'paper'`` or ``'released'``. Defaults to
            ``'paper'``.

    Returns:
        np.ndarray: ``(N, N)`` float64 graph, not symmetric in general.
    """
    if variant not in MLGCN_VARIANTS:
        raise ValueError(f'variant must be one of {MLGCN_VARIANTS}, '
                         f'got {variant!r}')
    if p is None:
        p = _MLGCN_DEFAULT_P[variant]
    if not (_is_real(t) and 0 < t <= 1):
        raise ValueError(f't must be a number in (0, 1], got {t!r}')
    if not (_is_real(p) and 0 <= p <= 1):
        raise ValueError(f'p must be a number in [0, 1], got {p!r}')

    conditional = _divide_or_zero(counts.co_counts, counts.counts[:, None])
    np.fill_diagonal(conditional, 0.0)
    edges = (conditional >= t).astype(np.float64)

    num_labels = counts.num_labels
    if variant == 'paper':
        graph = p * _divide_or_zero(edges, edges.sum(axis=1, keepdims=True))
        graph[np.diag_indices(num_labels)] = 1.0 - p
    else:
        graph = p * edges / (edges.sum(axis=0, keepdims=True) +
                             _MLGCN_RELEASED_EPS)
        graph += np.eye(num_labels)
    return graph


def ks_graph(counts: LabelCounts,
             classes: Optional[Sequence[str]] = None,
             knowledge: Optional[dict] = None,
             lam: float = 0.4,
             tau: float = 0.02,
             eta: float = 0.4,
             t: float = 0.4,
             variant: str = 'paper') -> np.ndarray:
    """KSSNet's normalised KS graph ``A'_KS`` (the GCN uses it as is).

    ``A_S`` is ML-GCN's graph (:func:`mlgcn_graph` with ``t`` and
    ``variant``: "A_S is constructed by following Chen et al. 2019"), ``A_K``
    the knowledge graph that ``knowledge`` names
    (:func:`mmcma.knowledge.knowledge_graph`).
    :func:`mmcma.graph_ks.ks_superimpose` takes their neighbours (ML-GCN's
    self-loops are dropped: eq. 4 sets the KS graph's own), symmetrises,
    normalises, superimposes, thresholds and self-weights them. ML-GCN's
    ``p`` only scales the neighbours, which the normalisation undoes, so it
    is not an option here. Defaults: the paper's MS-COCO values
    ``lam=0.4, tau=0.02, eta=0.4``.

    Args:
        counts (LabelCounts): Counts from :func:`label_counts`.
        classes (Sequence[str]): N class names (the knowledge graph is
            over names).
        knowledge (dict): ``dict(type='wordnet' | 'conceptnet' | 'file',
            **options)``.
        lam, tau, eta (float): Eq. 2-4 of the paper.
        t, variant: Options of :func:`mlgcn_graph`.

    Returns:
        np.ndarray: (N, N) float64, symmetric.
    """
    # Imported here: the knowledge sources use mmcma.embedding's name
    # handling, whose label state imports this module.
    from .knowledge import knowledge_graph

    if classes is None or len(classes) != counts.num_labels:
        raise ValueError(
            f"the 'ks' graph needs the names of the {counts.num_labels} "
            'classes (build_label_graph(..., classes=...)), got '
            f'{None if classes is None else len(classes)}')
    if knowledge is None:
        raise ValueError("the 'ks' graph needs knowledge=dict(type="
                         "'wordnet' | 'conceptnet' | 'file', ...)")
    statistics = mlgcn_graph(counts, t, variant=variant)
    return ks_superimpose(statistics,
                          knowledge_graph(classes, knowledge).adjacency, lam,
                          tau, eta)


_GRAPH_BUILDERS: Dict[str, Callable[..., np.ndarray]] = {
    'conditional': conditional_graph,
    'mlgcn': mlgcn_graph,
    'ks': ks_graph,
}
GRAPH_KINDS = tuple(_GRAPH_BUILDERS)


def build_label_graph(labels: Union[LabelMatrix, LabelCounts],
                      kind: str = 'conditional',
                      classes: Optional[Sequence[str]] = None,
                      **options) -> np.ndarray:
    """Build an ``(N, N)`` float64 label graph from annotations.

    Args:
        labels (np.ndarray | scipy.sparse | LabelCounts): ``(S, N)`` binary
            label matrix (see :func:`label_counts`), or counts already
            computed from one.
        kind (str): ``'conditional'`` (:func:`conditional_graph`, options
            ``symmetric``), ``'mlgcn'`` (:func:`mlgcn_graph`, options
            ``t``, ``p``, ``variant``) or ``'ks'`` (:func:`ks_graph`,
            options ``knowledge``, ``lam``, ``tau``, ``eta``, ``t``,
            ``variant``). Defaults to ``'conditional'``.
        classes (Sequence[str], optional): N class names, given to the
            kinds that use them (``'ks'``); the others ignore them.
        **options: Options of the chosen kind.

    Returns:
        np.ndarray: ``(N, N)`` float64 graph.

    Raises:
        ValueError: For an unknown kind or option, or invalid labels.

    Example:
        >>> import numpy as np
        >>> labels = np.array([[1, 1], [1, 0]])
        >>> build_label_graph(labels, symmetric=False)
        array([[1. , 1. ],
               [0.5, 1. ]])
    """
    if kind not in _GRAPH_BUILDERS:
        raise ValueError(f'unknown graph kind {kind!r}; '
                         f'choose one of {GRAPH_KINDS}')
    builder = _GRAPH_BUILDERS[kind]
    valid = tuple(p for p in inspect.signature(builder).parameters
                  if p != 'classes')[1:]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f'unknown option(s) {unknown} for kind {kind!r}; '
                         f'valid options: {valid}')
    counts = labels if isinstance(labels, LabelCounts) else label_counts(
        labels)
    if 'classes' in inspect.signature(builder).parameters:
        options['classes'] = classes
    return builder(counts, **options)
