"""KSSNet's KS graph kept sparse, for label sets of thousands of labels.

The same steps as :func:`~mmcma.labels.graphs.ks_superimpose` (see
:mod:`mmcma.labels.graphs.ks` for the equations), on ``scipy.sparse``
matrices: at N = 9,605 the dense graph takes 738 MB and every step makes
another, while ML-GCN's binarised graph and a knowledge graph have a few
neighbours per label. Each step gives the dense function's values entry by
entry (up to the order of the degree sums); the zero entries stay zero
through every step (eq. 3 keeps only entries >= tau >= 0).

The normalisation is :func:`~mmcma.labels.adjacency.symmetric_normalization`,
which keeps a scipy sparse matrix sparse.
"""
from typing import Optional, Sequence

import numpy as np
import scipy.sparse as sp

from ...io import check_choice
from ..adjacency import check_adjacency, symmetric_normalization
from ..knowledge import knowledge_graph
from .counts import LabelMatrix
from .ks import SUPERIMPOSED_NORMS, _check_fraction, check_ks_inputs
from .sparse import sparse_mlgcn_graph


def checked_sparse(graph, name: str) -> sp.csr_matrix:
    """``graph`` (dense or sparse) as a checked float64 CSR matrix
    (:func:`~mmcma.labels.adjacency.check_adjacency`)."""
    return check_adjacency(sp.csr_matrix(graph, dtype=np.float64), name)


def _with_data(coo: sp.coo_matrix, data: np.ndarray) -> sp.csr_matrix:
    graph = sp.csr_matrix((data, (coo.row, coo.col)), shape=coo.shape)
    graph.eliminate_zeros()
    return graph


def sparse_drop_self_loops(graph: sp.spmatrix) -> sp.csr_matrix:
    """``graph`` without its diagonal entries (step 0)."""
    coo = sp.coo_matrix(graph)
    off = coo.row != coo.col
    return sp.csr_matrix((coo.data[off], (coo.row[off], coo.col[off])),
                         shape=coo.shape)


def _normalized(graph: sp.spmatrix) -> sp.csr_matrix:
    """The checked ``graph``'s symmetric normalisation, sparse."""
    return symmetric_normalization(checked_sparse(graph, 'adjacency'))


def sparse_ks_superimpose(statistics,
                          knowledge,
                          lam: float = 0.4,
                          tau: float = 0.02,
                          eta: float = 0.4,
                          superimposed_norm: str = 'symmetric'
                          ) -> sp.csr_matrix:
    """:func:`~mmcma.labels.graphs.ks_superimpose`, sparse.

    Args:
        statistics: (N, N) statistical graph A_S, dense or sparse (its
            diagonal is ignored).
        knowledge: (N, N) knowledge graph A_K, dense or sparse (its
            diagonal is ignored).
        lam, tau, eta, superimposed_norm: As
            :func:`~mmcma.labels.graphs.ks_superimpose`.

    Returns:
        scipy.sparse.csr_matrix: (N, N) float64 ``A'_KS``, symmetric.
    """
    lam = _check_fraction(lam, 'lam')
    tau = _check_fraction(tau, 'tau', upper=float('inf'))
    eta = _check_fraction(eta, 'eta')
    check_choice('superimposed_norm', superimposed_norm, SUPERIMPOSED_NORMS)
    statistics = checked_sparse(statistics, 'statistical graph')
    knowledge = checked_sparse(knowledge, 'knowledge graph')
    if statistics.shape != knowledge.shape:
        raise ValueError(f'the statistical graph {statistics.shape} and the '
                         f'knowledge graph {knowledge.shape} differ in size')
    superimposed = (
        lam * _normalized(sparse_drop_self_loops(
            statistics)) +
        (1 - lam) * _normalized(sparse_drop_self_loops(
            knowledge)))  # eq. 2
    if superimposed_norm == 'symmetric':
        superimposed = _normalized(superimposed)
    kept = superimposed.tocoo()
    kept = _with_data(kept, np.where(kept.data < tau, 0.0, kept.data))  # 3
    num = kept.shape[0]
    weighted = eta * kept + (1 - eta) * sp.identity(num, format='csr')  # 4
    return _normalized(weighted)


def sparse_ks_graph(labels: LabelMatrix,
                    classes: Optional[Sequence[str]] = None,
                    knowledge: Optional[dict] = None,
                    t: float = 0.4,
                    variant: str = 'paper',
                    **superimpose) -> sp.csr_matrix:
    """:func:`~mmcma.labels.graphs.ks_graph` from a label matrix, sparse:
    ML-GCN's graph from :func:`sparse_mlgcn_graph`, the knowledge graph
    that ``knowledge`` names, :func:`sparse_ks_superimpose`.

    Args:
        labels (np.ndarray | scipy.sparse): (S, N) binary label matrix.
        classes, knowledge, t, variant: As
            :func:`~mmcma.labels.graphs.ks_graph`.
        **superimpose: ``lam``, ``tau``, ``eta``, ``superimposed_norm`` of
            :func:`sparse_ks_superimpose` (the same defaults as
            :func:`~mmcma.labels.graphs.ks_graph`).

    Returns:
        scipy.sparse.csr_matrix: (N, N) float64, symmetric.
    """
    statistics = sparse_mlgcn_graph(labels, t, variant=variant)
    check_ks_inputs(statistics.shape[0], classes, knowledge,
                    superimpose.get('superimposed_norm', 'symmetric'))
    return sparse_ks_superimpose(
        statistics, knowledge_graph(classes, knowledge).adjacency,
        **superimpose)
