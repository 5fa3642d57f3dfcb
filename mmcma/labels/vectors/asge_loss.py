"""The ASGE graph-embedding loss (MS-CMA, eq. 3-5).

    L = sum_i sum_j sigma_ij * (cos(e_i, e_j) - A_ij) ** 2,
    sigma_ij = 0 if (A_ij < alpha and cos(e_i, e_j) < alpha) else 1.

:func:`asge_loss` is the plain reference form: it builds the ``(N, N)``
cosine matrix and lets autograd differentiate it. :func:`summed_asge_loss`
is the form :func:`mmcma.labels.fit_asge` minimises: it never builds an
``(N, N)`` tensor and computes its gradient directly:

* without relaxation, exactly, by the Gram expansion
  (:func:`exact_loss_and_grad`);
* with relaxation, the pairs the graph calls related (``A_ij >= alpha``,
  few) exactly and the others, which count only while their cosine is at
  least ``alpha``, over the columns of a given set of labels
  (:func:`relaxed_loss_and_grad`): all labels gives the exact loss, a
  uniform random subset an unbiased estimate.

:func:`evaluate_asge_loss` computes the exact value in float64, in row
blocks, for reporting.
"""
import warnings
from dataclasses import dataclass
from typing import Iterator, Optional, Tuple, Union

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import Tensor

from ...io import InputOptionError
from ..square_arrays import sparse_by_rule

REDUCTIONS = ('sum', 'mean')
# Cosine similarities of zero embeddings are computed as 0 (never NaN).
COSINE_EPS = 1e-12
# Dense (N, B) temporaries are made in blocks of about this many entries.
_BLOCK_ENTRIES = 1 << 22


def asge_loss(embeddings: Tensor,
              adjacency: Tensor,
              alpha: Optional[float] = None,
              reduction: str = 'sum') -> Tensor:
    """Adjacency-based similarity graph embedding loss (reference form).

    ``L = sum_ij sigma_ij * (cos(e_i, e_j) - A_ij) ** 2`` with the relaxation
    ``sigma_ij = 0 if (A_ij < alpha and cos(e_i, e_j) < alpha) else 1``: pairs
    that the graph and the embeddings both call unrelated are not pushed
    further apart. The mask ``sigma`` carries no gradient. A zero embedding
    has cosine 0 with every label, itself included.

    Args:
        embeddings (Tensor): ``(N, D)`` label embeddings.
        adjacency (Tensor): ``(N, N)`` label graph ``A``.
        alpha (float, optional): Relaxation threshold. None (default)
            disables the relaxation (``sigma = 1``), as the paper does for
            images; it uses 0.1 for video.
        reduction (str): ``'sum'`` (the paper's) or ``'mean'`` over the
            ``N ** 2`` pairs. Defaults to ``'sum'``.

    Returns:
        Tensor: Scalar loss.
    """
    if reduction not in REDUCTIONS:
        raise InputOptionError(f'reduction must be one of {REDUCTIONS}, '
                               f'got {reduction!r}')
    num_labels = embeddings.shape[0]
    if embeddings.dim() != 2 or adjacency.shape != (num_labels, num_labels):
        raise ValueError('expected embeddings (N, D) and adjacency (N, N), '
                         f'got {tuple(embeddings.shape)} and '
                         f'{tuple(adjacency.shape)}')
    adjacency = adjacency.to(embeddings)
    units = F.normalize(embeddings, dim=1, eps=COSINE_EPS)
    cosine = units @ units.t()
    squared_error = (cosine - adjacency).square()
    if alpha is not None:
        with torch.no_grad():
            relaxed = (adjacency < alpha) & (cosine < alpha)
        squared_error = squared_error.masked_fill(relaxed, 0.0)
    if reduction == 'sum':
        return squared_error.sum()
    return squared_error.mean()


def _to_device(graph: Union[np.ndarray, sp.csr_matrix], device) -> Tensor:
    """``graph`` as a float32 tensor on ``device``, sparse CSR if it is."""
    if not sp.issparse(graph):
        return torch.as_tensor(graph, dtype=torch.float32, device=device)
    with warnings.catch_warnings():
        # PyTorch flags sparse CSR support as beta; only CSR @ dense,
        # sampled_addmm and the arrays themselves are used here.
        warnings.simplefilter('ignore', UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(graph.indptr.astype(np.int64)),
            torch.from_numpy(graph.indices.astype(np.int64)),
            torch.from_numpy(graph.data.astype(np.float32)),
            graph.shape,
            device=device)


def _dense_rows(graph: Tensor, index: Tensor) -> Tensor:
    """Rows ``index`` of a dense or sparse CSR ``graph``, as a dense tensor."""
    if graph.layout == torch.strided:
        return graph.index_select(0, index)
    # PyTorch 2.14 has no index_select for sparse CSR: gather the rows'
    # entries from the compressed arrays.
    crow, col, values = (graph.crow_indices(), graph.col_indices(),
                         graph.values())
    starts = crow[index]
    counts = crow[index + 1] - starts
    block_rows = torch.repeat_interleave(
        torch.arange(len(index), device=index.device), counts)
    shifts = torch.repeat_interleave(starts - (counts.cumsum(0) - counts),
                                     counts)
    entries = shifts + torch.arange(len(shifts), device=index.device)
    rows = values.new_zeros(len(index), graph.shape[1])
    rows[block_rows, col[entries]] = values[entries]
    return rows


@dataclass
class ASGETarget:
    """A label graph prepared once for :func:`summed_asge_loss`.

    Only what the chosen loss needs is kept on the device, as float32.

    Attributes:
        num_labels (int): ``N``.
        device (torch.device): Where the tensors are.
        alpha (float, optional): Relaxation threshold (None: unrelaxed).
        squared_sum (float): ``sum(A ** 2)`` in float64.
        is_symmetric (bool): Whether ``A == A^T``.
        symmetric (Tensor, optional): Unrelaxed: ``(A + A^T) / 2``, dense
            or sparse CSR.
        positives (Tensor, optional): Relaxed: the entries ``A_ij >= alpha``
            as sparse CSR (always in the loss).
        transposed (Tensor, optional): Relaxed: ``A^T``, dense or sparse
            CSR; its rows are the columns of ``A``.
    """

    num_labels: int
    device: torch.device
    alpha: Optional[float]
    squared_sum: float
    is_symmetric: bool
    symmetric: Optional[Tensor] = None
    positives: Optional[Tensor] = None
    transposed: Optional[Tensor] = None

    @classmethod
    def from_adjacency(cls, adjacency: np.ndarray, alpha: Optional[float],
                       device) -> 'ASGETarget':
        """Prepare a finite ``(N, N)`` float64 array on ``device``.

        A graph that the one sparsity rule keeps sparse
        (:func:`~mmcma.labels.square_arrays.sparse_by_rule`) is kept as
        sparse CSR and prepared without dense copies. ``alpha`` must be positive, so that
        the pairs with ``A_ij >= alpha`` are among the non-zero entries.
        """
        num_labels = len(adjacency)
        squared_sum = float(np.einsum('ij,ij->', adjacency, adjacency))
        is_symmetric = bool(np.array_equal(adjacency, adjacency.T))
        graph = adjacency
        if sparse_by_rule(num_labels, np.count_nonzero(adjacency)):
            graph = sp.csr_matrix(adjacency)
        common = dict(num_labels=num_labels, device=torch.device(device),
                      alpha=alpha, squared_sum=squared_sum,
                      is_symmetric=is_symmetric)
        if alpha is None:
            symmetric = graph if is_symmetric else (graph + graph.T) / 2
            return cls(symmetric=_to_device(symmetric, device), **common)
        if alpha <= 0:
            raise InputOptionError(f'alpha must be positive, got {alpha}')
        if sp.issparse(graph):
            related = sp.csr_matrix(graph.multiply(graph >= alpha))
        else:
            rows, cols = np.nonzero(graph >= alpha)
            related = sp.csr_matrix((graph[rows, cols], (rows, cols)),
                                    shape=graph.shape)
        transposed = graph if is_symmetric else graph.T
        return cls(
            positives=_to_device(related, device),
            transposed=_to_device(
                sp.csr_matrix(transposed) if sp.issparse(graph) else
                np.ascontiguousarray(transposed), device),
            **common)


def exact_loss_and_grad(units: Tensor,
                        target: ASGETarget) -> Tuple[Tensor, Tensor]:
    """Unrelaxed summed loss of unit-norm rows and its gradient.

    With ``C = U U^T`` (cosines of unit rows ``U``) and ``S = (A + A^T)/2``:
    ``sum((C - A)^2) = ||U^T U||_F^2 - 2 tr(U^T S U) + sum(A^2)`` and the
    gradient is ``4 (U (U^T U) - S U)``. Cost ``O(N D^2 + nnz(S) D)``, memory
    ``O(N D)``: no ``(N, N)`` cosine matrix is formed.

    Args:
        units (Tensor): ``(N, D)`` rows of norm 1 (or 0).
        target (ASGETarget): The graph, unrelaxed.

    Returns:
        tuple[Tensor, Tensor]: float64 scalar loss, ``(N, D)`` gradient.
    """
    gram = units.t() @ units
    neighbours = target.symmetric @ units
    loss = (gram.double().square().sum() -
            2 * (units * neighbours).sum(dtype=torch.float64) +
            target.squared_sum)
    grad = 4 * (units @ gram - neighbours)
    return loss, grad


def relaxed_loss_and_grad(
        units: Tensor,
        target: ASGETarget,
        columns: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """Relaxed summed loss of unit-norm rows and its gradient.

    The residual ``R = sigma * (C - A)`` splits into pairs with
    ``A_ij >= alpha``, always in the loss and taken exactly at the sparse
    pattern of ``target.positives`` (``sampled_addmm``), and the other
    pairs, which count only while ``C_ij >= alpha``: those are taken over the
    columns ``j`` in ``columns`` and scaled by ``N / len(columns)``. With
    every label as a column this is the exact loss; with a uniform random
    subset it is an unbiased estimate of the loss, and its gradient one of
    the gradient (``sigma`` held constant, as the mask carries no gradient):
    ``dL/dU = 2 (R + R^T) U``.

    Cost ``O((nnz_alpha + N K) D)`` for ``K`` columns, memory ``O(N D)``
    plus blocks of about ``_BLOCK_ENTRIES`` entries.

    Args:
        units (Tensor): ``(N, D)`` rows of norm 1 (or 0).
        target (ASGETarget): The graph, relaxed.
        columns (Tensor, optional): 1-D indices of distinct labels. None
            (default): all labels.

    Returns:
        tuple[Tensor, Tensor]: float64 scalar loss, ``(N, D)`` gradient.
    """
    num_labels = units.shape[0]
    alpha = target.alpha
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)  # CSR is beta
        cosine = torch.sparse.sampled_addmm(
            target.positives, units, units.t(), beta=0.0)
        residual = cosine.values() - target.positives.values()
        related = torch.sparse_csr_tensor(target.positives.crow_indices(),
                                          target.positives.col_indices(),
                                          residual, cosine.shape)
        grad = related @ units
        # A symmetric graph has a symmetric pattern and residual: R^T = R.
        grad = (4 * grad if target.is_symmetric else 2 *
                (grad + related.t() @ units))
    loss = residual.square().sum(dtype=torch.float64)

    if columns is None:
        columns = torch.arange(num_labels, device=units.device)
    scale = num_labels / len(columns)
    block = max(1, _BLOCK_ENTRIES // num_labels)
    for index in columns.split(block):
        others = units[index]
        cosine = units @ others.t()
        graph = _dense_rows(target.transposed, index).t()
        active = (graph < alpha).logical_and_(cosine >= alpha)
        residual = cosine.sub_(graph).mul_(active)
        loss += scale * residual.square().sum(dtype=torch.float64)
        grad.addmm_(residual, others, alpha=2 * scale)
        grad.index_add_(0, index, residual.t() @ units, alpha=2 * scale)
    return loss, grad


def column_sampler(target: ASGETarget, num_sampled: Optional[int],
                   seed: int) -> Iterator[Optional[Tensor]]:
    """Yield the ``columns`` of :func:`summed_asge_loss` for each step.

    None (all labels: exact) when the loss is unrelaxed or ``num_sampled``
    is None or at least ``N``; otherwise ``num_sampled`` distinct labels
    drawn uniformly from a local generator seeded with ``seed``.
    """
    num_labels = target.num_labels
    if (target.alpha is None or num_sampled is None
            or num_sampled >= num_labels):
        while True:
            yield None
    generator = torch.Generator().manual_seed(seed)
    while True:
        columns = torch.randperm(num_labels, generator=generator)
        yield columns[:num_sampled].to(target.device)


class _SummedASGELoss(torch.autograd.Function):
    """Summed ASGE loss of unit-norm rows; the gradient is made in forward."""

    @staticmethod
    def forward(ctx, units: Tensor, target: ASGETarget,
                columns: Optional[Tensor]) -> Tensor:
        if target.alpha is None:
            loss, grad = exact_loss_and_grad(units, target)
        else:
            loss, grad = relaxed_loss_and_grad(units, target, columns)
        ctx.save_for_backward(grad)
        return loss

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        grad, = ctx.saved_tensors
        return grad * grad_output.to(grad.dtype), None, None


def summed_asge_loss(embeddings: Tensor,
                     target: ASGETarget,
                     columns: Optional[Tensor] = None) -> Tensor:
    """Summed ASGE loss of ``embeddings`` against a prepared graph.

    Equal to ``asge_loss(embeddings, A, target.alpha, reduction='sum')`` (up
    to float32 rounding) when ``columns`` is None, an unbiased estimate of it
    for a uniform random subset of ``columns`` (relaxed only; the unrelaxed
    loss is always exact). Differentiable with respect to ``embeddings``.

    Args:
        embeddings (Tensor): ``(N, D)`` embeddings.
        target (ASGETarget): The graph.
        columns (Tensor, optional): See :func:`relaxed_loss_and_grad`.

    Returns:
        Tensor: float64 scalar.
    """
    units = F.normalize(embeddings, dim=1, eps=COSINE_EPS)
    return _SummedASGELoss.apply(units, target, columns)


def _residual_blocks(units: Tensor, adjacency: Tensor,
                     alpha: Optional[float]) -> Iterator[Tensor]:
    """Yield row blocks of the relaxed residual ``R = sigma * (C - A)``."""
    num_labels = units.shape[0]
    block = max(1, _BLOCK_ENTRIES // num_labels)
    for start in range(0, num_labels, block):
        rows = slice(start, start + block)
        residual = units[rows] @ units.t()
        graph = adjacency[rows]
        relaxed = None if alpha is None else (residual < alpha).logical_and_(
            graph < alpha)
        residual.sub_(graph)
        if relaxed is not None:
            residual.masked_fill_(relaxed, 0.0)
        yield residual


def evaluate_asge_loss(embeddings: Tensor, adjacency: np.ndarray,
                       alpha: Optional[float]) -> float:
    """Summed loss computed directly in float64 on the CPU, in row blocks.

    The unrelaxed training loss is a difference of large sums, accurate only
    to float32 round-off, and the relaxed one may be a sampled estimate;
    this is the exact value. Cost ``O(N^2 D)``, memory ``O(N D)`` plus
    blocks of about ``_BLOCK_ENTRIES`` entries.

    Args:
        embeddings (Tensor): ``(N, D)`` embeddings.
        adjacency (np.ndarray): ``(N, N)`` graph.
        alpha (float, optional): Relaxation threshold.

    Returns:
        float: ``asge_loss(embeddings, adjacency, alpha, 'sum')``.
    """
    units = F.normalize(embeddings.detach().cpu().double(), dim=1,
                        eps=COSINE_EPS)
    return sum(
        torch.dot(residual.view(-1), residual.view(-1)).item()
        for residual in _residual_blocks(units, torch.from_numpy(adjacency),
                                         alpha))
