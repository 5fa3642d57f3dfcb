"""ML-GCN's graph kept sparse, for label sets of thousands of labels.

With N labels the dense graph and its counts take ``8 N^2`` bytes each (738
MB at N = 9,605), while ML-GCN's binarised graph has a few edges per label.
:func:`sparse_mlgcn_graph` builds the same graph as
:func:`~mmcma.labels.graphs.mlgcn_graph` (the same float64 values, entry by
entry) from the non-zero co-occurrences alone, as a ``scipy.sparse`` CSR
matrix; :func:`to_torch_sparse` hands it to torch.
"""
from typing import Optional

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from .counts import LabelMatrix, binary_csr
from .statistical import _MLGCN_RELEASED_EPS, check_mlgcn_options


def sparse_mlgcn_graph(labels: LabelMatrix,
                       t: float = 0.4,
                       p: Optional[float] = None,
                       variant: str = 'paper') -> sp.csr_matrix:
    """:func:`~mmcma.labels.graphs.mlgcn_graph` of ``labels``, sparse.

    ``P(j | i) = n_ij / n_i`` is computed for the co-occurring pairs only
    (the others are 0, below any ``t > 0``), binarised at ``t`` and
    re-weighted as the variant says.

    Args:
        labels (np.ndarray | scipy.sparse): (S, N) binary label matrix.
        t, p, variant: As :func:`~mmcma.labels.graphs.mlgcn_graph`.

    Returns:
        scipy.sparse.csr_matrix: (N, N) float64, equal to the dense graph.
    """
    p = check_mlgcn_options(t, p, variant)
    matrix = binary_csr(labels)
    pairs = (matrix.T @ matrix).tocoo()
    counts = np.asarray(matrix.sum(axis=0), dtype=np.float64).ravel()
    off = pairs.row != pairs.col
    rows, cols = pairs.row[off], pairs.col[off]
    keep = pairs.data[off] / counts[rows] >= t
    rows, cols = rows[keep], cols[keep]
    num_labels = counts.size
    if variant == 'paper':
        degree = np.bincount(rows, minlength=num_labels).astype(np.float64)
        weights = p * (1.0 / degree[rows])
        diagonal = np.full(num_labels, 1.0 - p)
    else:
        degree = np.bincount(cols, minlength=num_labels).astype(np.float64)
        weights = p / (degree[cols] + _MLGCN_RELEASED_EPS)
        diagonal = np.ones(num_labels)
    labels_range = np.arange(num_labels)
    return sp.csr_matrix(
        (np.concatenate([weights, diagonal]),
         (np.concatenate([rows, labels_range]),
          np.concatenate([cols, labels_range]))),
        shape=(num_labels, num_labels))


def sparse_co_counts(labels: LabelMatrix) -> sp.csr_matrix:
    """``n_ij = (Y^T Y)_ij`` of ``labels`` (S, N) as an int64 CSR matrix
    (only the co-occurring pairs stored; the diagonal is ``n_j``): the
    :class:`~mmcma.labels.graphs.LabelCounts` ``co_counts``, sparse."""
    matrix = binary_csr(labels)
    pairs = sp.csr_matrix(matrix.T @ matrix, dtype=np.int64)
    pairs.sort_indices()
    return pairs


def to_torch_sparse(graph: sp.spmatrix,
                    dtype: torch.dtype = torch.float32) -> Tensor:
    """A scipy sparse (N, N) graph as a coalesced torch COO tensor."""
    coo = sp.coo_matrix(graph)
    indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    return torch.sparse_coo_tensor(
        indices, torch.from_numpy(coo.data).to(dtype), coo.shape,
        check_invariants=True).coalesce()
