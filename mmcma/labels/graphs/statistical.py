"""Statistical label graphs: MS-CMA's conditional graph and ML-GCN's.

* ``'conditional'`` (MS-CMA, used to fit ASGE label embeddings):
  ``A_ij = P(i | j) = n_ij / n_j``, symmetrised by default.
* ``'mlgcn'`` (ML-GCN, also KSSNet's statistical graph): row-wise
  ``P(j | i) = n_ij / n_i`` binarised at ``t`` and re-weighted, either as
  written in the ML-GCN paper or as in ML-GCN's released code.

Both are built from :class:`~mmcma.labels.graphs.LabelCounts` and returned
un-normalised: a GCN normalises them (:mod:`mmcma.labels.adjacency`).
"""
import numbers
from typing import Optional

import numpy as np

from ...io import InputOptionError
from .counts import LabelCounts

MLGCN_VARIANTS = ('paper', 'released')

# Re-weighting of ML-GCN's neighbours when ``p`` is not given.
_MLGCN_DEFAULT_P = {'paper': 0.2, 'released': 0.25}
# ML-GCN's released ``gen_A`` adds this to the column sums before dividing.
_MLGCN_RELEASED_EPS = 1e-6


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
        raise InputOptionError(f'symmetric must be a bool, got {symmetric!r}')
    graph = _divide_or_zero(counts.co_counts, counts.counts[None, :])
    if symmetric:
        graph = (graph + graph.T) / 2
    np.fill_diagonal(graph, 1.0)
    return graph


def check_mlgcn_options(t, p: Optional[float], variant: str) -> float:
    """Check :func:`mlgcn_graph`'s options; return ``p`` (its default for
    the variant when None)."""
    if variant not in MLGCN_VARIANTS:
        raise InputOptionError(f'variant must be one of {MLGCN_VARIANTS}, '
                               f'got {variant!r}')
    if p is None:
        p = _MLGCN_DEFAULT_P[variant]
    if not (_is_real(t) and 0 < t <= 1):
        raise InputOptionError(f't must be a number in (0, 1], got {t!r}')
    if not (_is_real(p) and 0 <= p <= 1):
        raise InputOptionError(f'p must be a number in [0, 1], got {p!r}')
    return p


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
    p = check_mlgcn_options(t, p, variant)
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
