"""One adjacency check and one home for every graph normalisation.

Sparse graphs (torch sparse COO tensors on the model side,
:mod:`mmcma.models.sparse_label_graph`; scipy sparse matrices on the data
side, :mod:`mmcma.labels.graphs.ks_sparse`) are normalised on their non-zero
entries and stay sparse.

The data side (KSSNet's KS graph, :mod:`mmcma.labels.graphs.ks`) and the
model side (the GCNs, :mod:`mmcma.models.utils.gcn`) normalise label graphs
with the same functions. Each takes and returns a numpy array or a tensor
(the type it was given); the arithmetic is torch's in both cases.

Normalisations (:data:`NORMALIZATIONS`):

* ``'none'``: the graph as it is;
* ``'symmetric'``: ``D^-1/2 A D^-1/2`` of the symmetrised graph
  ``(A + A^T) / 2``, ``D_ii = sum_j A_ij`` (KSSNet, eq. 2 and after eq. 4);
* ``'released'``: ML-GCN's released ``gen_adj``, ``D^-1/2 A^T D^-1/2`` with
  ``D`` the row sums of ``A``.

A label with zero degree keeps a zero row and column: ``D^-1/2`` is taken as
0 there, never inf or NaN.

Which normalisation a built graph already carries is a property of its kind
(:data:`mmcma.labels.graphs.GRAPH_NORMALIZATION`); a GCN applies only what
is missing (:func:`propagation_graph`).
"""
from typing import TypeVar, Union

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from ..io import InputOptionError

NORMALIZATIONS = ('none', 'symmetric', 'released')

Graph = TypeVar('Graph', np.ndarray, Tensor)


def check_adjacency(graph: Union[np.ndarray, sp.spmatrix],
                    name: str) -> Union[np.ndarray, sp.csr_matrix]:
    """``graph`` as float64 after checking it is a square, finite,
    non-negative matrix; ``ValueError`` starting with ``name`` otherwise.
    A scipy sparse one comes back as CSR with its duplicates summed and
    no explicit zeros."""
    if sp.issparse(graph):
        graph = sp.csr_matrix(graph, dtype=np.float64)
        graph.sum_duplicates()
        values = graph.data
    else:
        graph = values = np.asarray(graph, dtype=np.float64)
    if len(graph.shape) != 2 or graph.shape[0] != graph.shape[1]:
        raise ValueError(f'{name} must be a square (N, N) matrix, got shape '
                         f'{graph.shape}')
    if not np.isfinite(values).all():
        raise ValueError(f'{name} contains NaN or inf')
    if (values < 0).any():
        raise ValueError(f'{name} has negative entries; D^-1/2 needs '
                         'non-negative degrees')
    if sp.issparse(graph):
        graph.eliminate_zeros()
    return graph


def _as_tensor(graph: Union[np.ndarray, Tensor]) -> Tensor:
    if isinstance(graph, Tensor):
        return graph
    return torch.from_numpy(check_adjacency(graph, 'adjacency'))


def _like(result: Tensor, graph: Union[np.ndarray, Tensor]):
    return result if isinstance(graph, Tensor) else result.numpy()


def symmetric_normalization(graph: Graph) -> Graph:
    """``D^-1/2 A D^-1/2`` of ``(A + A^T) / 2``, exactly symmetric.

    Args:
        graph (np.ndarray | Tensor | scipy.sparse matrix): (N, N)
            non-negative adjacency (a scipy one checked by the caller).

    Returns:
        (N, N) of the input's type (scipy: CSR); zero-degree rows and
        columns are 0.
    """
    if isinstance(graph, Tensor) and graph.is_sparse:
        return _sparse_symmetric(graph)
    if sp.issparse(graph):
        return _scipy_symmetric(graph)
    a = _as_tensor(graph)
    a = (a + a.t()) / 2
    degree = a.sum(dim=1)
    scale = torch.where(degree > 0, 1.0 / degree.clamp_min(1e-300).sqrt(),
                        torch.zeros_like(degree))
    # One factor s_i s_j per entry keeps the result exactly symmetric.
    return _like(a * (scale[:, None] * scale[None, :]), graph)


def released_normalization(graph: Graph) -> Graph:
    """ML-GCN's ``gen_adj``: ``A_hat_ij = A_ji / sqrt(d_i d_j)``, ``d`` the
    row sums of ``A`` (applied to the *transposed* graph, as the released
    code does).

    Args:
        graph (np.ndarray | Tensor): ``A``, (N, N), non-negative.

    Returns:
        ``A_hat``, (N, N) of the input's type.
    """
    if isinstance(graph, Tensor) and graph.is_sparse:
        return _sparse_released(graph)
    a = _as_tensor(graph)
    degree = a.sum(dim=1)
    inv_sqrt = torch.where(degree > 0, degree.clamp_min(1e-30).rsqrt(),
                           torch.zeros_like(degree))
    return _like(inv_sqrt[:, None] * a.t() * inv_sqrt[None, :], graph)


def _row_sums(graph: Tensor) -> Tensor:
    """Row sums (N,) of a coalesced sparse COO (N, N) tensor."""
    indices, values = graph.indices(), graph.values()
    return torch.zeros(graph.size(0), dtype=values.dtype,
                       device=values.device).index_add_(0, indices[0], values)


def _sparse_symmetric(graph: Tensor) -> Tensor:
    """:func:`symmetric_normalization` of a sparse COO tensor, computed on
    its non-zero entries only (coalesced sparse COO out)."""
    a = ((graph + graph.t()) / 2).coalesce()
    degree = _row_sums(a)
    scale = torch.where(degree > 0, 1.0 / degree.clamp_min(1e-300).sqrt(),
                        torch.zeros_like(degree))
    rows, cols = a.indices()
    return torch.sparse_coo_tensor(
        a.indices(), a.values() * (scale[rows] * scale[cols]), a.shape,
        is_coalesced=True, check_invariants=False)  # a's own indices


def _scipy_symmetric(graph: sp.spmatrix) -> sp.csr_matrix:
    """:func:`symmetric_normalization` of a scipy sparse matrix, through the
    sparse COO path (CSR out, float64)."""
    coo = sp.coo_matrix(graph, dtype=np.float64)
    out = _sparse_symmetric(torch.sparse_coo_tensor(
        np.vstack([coo.row, coo.col]), coo.data, coo.shape).coalesce())
    rows, cols = out.indices().numpy()
    result = sp.csr_matrix((out.values().numpy(), (rows, cols)),
                           shape=coo.shape)
    result.eliminate_zeros()
    return result


def _sparse_released(graph: Tensor) -> Tensor:
    """:func:`released_normalization` of a sparse COO tensor (coalesced
    sparse COO out)."""
    a = graph.coalesce()
    degree = _row_sums(a)
    inv_sqrt = torch.where(degree > 0, degree.clamp_min(1e-30).rsqrt(),
                           torch.zeros_like(degree))
    rows, cols = a.indices()
    # A_hat_ij = A_ji / sqrt(d_i d_j): entry (r, c) of A lands at (c, r).
    return torch.sparse_coo_tensor(
        torch.stack([cols, rows]),
        inv_sqrt[cols] * a.values() * inv_sqrt[rows], a.shape,
        check_invariants=False).coalesce()  # a's indices, swapped


def normalize_graph(graph: Graph, normalization: str) -> Graph:
    """``graph`` under one of :data:`NORMALIZATIONS`."""
    if normalization == 'none':
        return graph
    if normalization == 'symmetric':
        return symmetric_normalization(graph)
    if normalization == 'released':
        return released_normalization(graph)
    raise InputOptionError(
        f'normalization must be one of {NORMALIZATIONS}, got '
        f'{normalization!r}')


def propagation_graph(graph: Graph, carried: str,
                      wanted: Union[str, None] = None) -> Graph:
    """The graph a GCN propagates over, applying only what is missing.

    Args:
        graph: (N, N) label graph.
        carried (str): The normalisation ``graph`` already has
            (:data:`NORMALIZATIONS`; ``'none'`` for a raw statistical graph).
        wanted (str, optional): The normalisation the GCN propagates with.
            None: the graph's own if it carries one, else ML-GCN's
            ``'released'``.

    Raises:
        ValueError: The graph carries a normalisation and ``wanted`` asks
            for another one: it would be normalised twice (or un-normalised),
            which no config means.
    """
    for name, value in (('carried', carried), ('wanted', wanted)):
        if value is not None and value not in NORMALIZATIONS:
            raise InputOptionError(f'{name} normalisation must be one of '
                                   f'{NORMALIZATIONS}, got {value!r}')
    if wanted is None:
        wanted = carried if carried != 'none' else 'released'
    if carried == wanted:
        return graph
    if carried != 'none':
        raise ValueError(
            f"the label graph is already normalised ({carried!r}, e.g. "
            f"KSSNet's KS graph) but the GCN asks for {wanted!r}: it would "
            'be normalised twice; leave the GCN\'s normalisation unset (it '
            'then uses the graph as it is)')
    return normalize_graph(graph, wanted)
