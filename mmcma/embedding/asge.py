"""ASGE: adjacency-based similarity graph embedding (MS-CMA, section 3.1).

A small network ``Phi`` maps each label's one-hot vector to an embedding
``e_i``; it is fitted so that cosine similarities reproduce a label graph:

    L = sum_i sum_j sigma_ij * (cos(e_i, e_j) - A_ij) ** 2,
    sigma_ij = 0 if (A_ij < alpha and cos(e_i, e_j) < alpha) else 1.

The embeddings are fitted once, before classifier training, and frozen.
:func:`fit_asge` does the fitting without materialising autograd graphs of
``(N, N)`` tensors, so that graphs with tens of thousands of labels fit on a
CPU; :func:`mmcma.models.losses.asge_loss.asge_loss` is the plain reference
form of the same loss.
"""
import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                           TextColumn, TimeElapsedColumn)
from torch import Tensor, nn

# Cosine similarities of zero embeddings are computed as 0 (never NaN).
COSINE_EPS = 1e-12

# Learning rates used when ``lr`` is not given, per optimiser. SGD's is the
# paper's (momentum 0.9, lr 0.01 on the summed loss).
DEFAULT_LR = {'adam': 0.03, 'sgd': 0.01}
# Use a sparse (CSR) copy of the symmetric graph when at most this fraction
# of its entries is non-zero and it has at least ``_SPARSE_MIN_LABELS`` rows.
_SPARSE_MAX_DENSITY = 0.05
_SPARSE_MIN_LABELS = 1024
# The relaxed loss is evaluated in row blocks of about this many entries.
_BLOCK_ENTRIES = 1 << 22


class ASGENet(nn.Module):
    """The embedding network ``Phi`` of ASGE.

    ``[Linear -> BatchNorm1d -> ReLU]`` repeated ``len(hidden_dims) + 1``
    times, applied to the ``(N, N)`` identity matrix: all labels form one
    batch, so BatchNorm always uses the statistics of the whole label set.
    A Linear layer applied to one-hot rows returns its weight columns, so the
    first layer is computed as ``weight.T + bias`` without building the
    identity matrix (same values, ``O(N * hidden)`` memory instead of
    ``O(N ** 2)``). Embeddings are meant to be computed in training mode
    (batch statistics of the whole label set), as during fitting; in eval
    mode BatchNorm would use its running averages instead.

    Args:
        num_labels (int): Number of labels ``N`` (at least 2: BatchNorm needs
            more than one row).
        embed_dim (int): Output size ``Ce``. Defaults to 256 (paper).
        hidden_dims (Sequence[int]): Sizes of the hidden layers.
            Defaults to ``(256, 256)`` (paper: three layers of 256).
    """

    def __init__(self,
                 num_labels: int,
                 embed_dim: int = 256,
                 hidden_dims: Sequence[int] = (256, 256)):
        super().__init__()
        if num_labels < 2:
            raise ValueError(f'ASGE needs at least 2 labels, got {num_labels}')
        dims = (num_labels, *hidden_dims, embed_dim)
        if min(dims[1:]) < 1:
            raise ValueError(f'layer sizes must be positive, got {dims[1:]}')
        self.num_labels = num_labels
        self.layers = nn.ModuleList(
            nn.Sequential(
                nn.Linear(in_dim, out_dim), nn.BatchNorm1d(out_dim),
                nn.ReLU()) for in_dim, out_dim in zip(dims[:-1], dims[1:]))

    def reset_parameters(self,
                         generator: Optional[torch.Generator] = None) -> None:
        """Re-initialise like PyTorch's defaults, drawing from ``generator``.

        Linear layers get PyTorch's default (Kaiming-uniform weights,
        uniform biases in ``+-1/sqrt(fan_in)``); BatchNorm gets weight 1 and
        bias 0. A local generator makes the result independent of the global
        random state.

        Args:
            generator (torch.Generator, optional): Source of randomness.
        """
        for linear, norm, _ in self.layers:
            nn.init.kaiming_uniform_(
                linear.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(linear.in_features)
            nn.init.uniform_(linear.bias, -bound, bound, generator=generator)
            norm.reset_parameters()

    def forward(self) -> Tensor:
        """Embed every label.

        Returns:
            Tensor: ``(N, embed_dim)`` embeddings, non-negative (final ReLU).
        """
        first_linear, first_norm, first_act = self.layers[0]
        x = first_act(first_norm(first_linear.weight.t() + first_linear.bias))
        for layer in self.layers[1:]:
            x = layer(x)
        return x


@dataclass
class ASGEResult:
    """Outcome of :func:`fit_asge`.

    Attributes:
        embeddings (np.ndarray): ``(N, embed_dim)`` float32 label embeddings,
            those with the lowest loss seen during fitting.
        loss (float): Their loss averaged over the ``N ** 2`` pairs
            (``L / N ** 2``, relaxed when ``alpha`` is set).
        num_iters (int): Optimisation steps taken.
        history (list[float]): Mean loss at every step, before its update
            (unrelaxed: from the float32 expansion of
            :func:`_exact_loss_and_grad`, accurate to about 1e-7 of the
            mean squared cosine).
        converged (bool): Whether fitting stopped because the loss stopped
            improving (False: it reached ``max_iters``).
    """

    embeddings: np.ndarray
    loss: float
    num_iters: int
    history: List[float]
    converged: bool


@dataclass
class _Target:
    """The graph to fit, prepared once for :class:`_SummedASGELoss`.

    Only what the chosen loss needs is kept on the device: the unrelaxed loss
    uses ``symmetric``, the relaxed one ``adjacency``.

    Attributes:
        squared_sum (float): ``sum(A ** 2)`` in float64.
        is_symmetric (bool): Whether ``A == A^T``.
        symmetric (Tensor, optional): ``(A + A^T) / 2`` as float32, dense or
            sparse CSR.
        adjacency (Tensor, optional): ``A`` as float32.
    """

    squared_sum: float
    is_symmetric: bool
    symmetric: Optional[Tensor] = None
    adjacency: Optional[Tensor] = None

    @classmethod
    def from_adjacency(cls, adjacency: np.ndarray, relaxed: bool,
                       device: Union[str, torch.device]) -> '_Target':
        """Prepare a validated ``(N, N)`` float64 array on ``device``."""
        squared_sum = float(np.einsum('ij,ij->', adjacency, adjacency))
        is_symmetric = bool(np.array_equal(adjacency, adjacency.T))
        dense = torch.as_tensor(adjacency, dtype=torch.float32, device=device)
        if relaxed:
            return cls(squared_sum, is_symmetric, adjacency=dense)
        symmetric = dense if is_symmetric else (dense + dense.t()).div_(2)
        del dense
        density = torch.count_nonzero(symmetric).item() / symmetric.numel()
        if (symmetric.shape[0] >= _SPARSE_MIN_LABELS
                and density <= _SPARSE_MAX_DENSITY):
            with warnings.catch_warnings():
                # PyTorch flags sparse CSR support as beta; CSR @ dense is
                # all that is used here.
                warnings.simplefilter('ignore', UserWarning)
                symmetric = symmetric.to_sparse_csr()
        return cls(squared_sum, is_symmetric, symmetric=symmetric)


def _exact_loss_and_grad(units: Tensor,
                         target: _Target) -> Tuple[Tensor, Tensor]:
    """Unrelaxed summed loss of unit-norm rows and its gradient.

    With ``C = U U^T`` (cosines of unit rows ``U``) and ``S = (A + A^T)/2``:
    ``sum((C - A)^2) = ||U^T U||_F^2 - 2 tr(U^T S U) + sum(A^2)`` and the
    gradient is ``4 (U (U^T U) - S U)``. Cost ``O(N D^2 + nnz(S) D)``, memory
    ``O(N D)``: no ``(N, N)`` cosine matrix is formed.

    Args:
        units (Tensor): ``(N, D)`` rows of norm 1 (or 0).
        target (_Target): The graph.

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


def _residual_blocks(units: Tensor, adjacency: Tensor,
                     alpha: Optional[float]) -> Iterator[Tuple[slice, Tensor]]:
    """Yield row blocks of the relaxed residual ``R = sigma * (C - A)``.

    Args:
        units (Tensor): ``(N, D)`` rows of norm 1 (or 0).
        adjacency (Tensor): ``(N, N)`` graph ``A``, same dtype and device.
        alpha (float, optional): Relaxation threshold; None keeps all pairs.

    Yields:
        tuple[slice, Tensor]: Rows ``r`` and ``R[r]`` of shape ``(len(r), N)``,
        about ``_BLOCK_ENTRIES`` entries each.
    """
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
        yield rows, residual


def _relaxed_loss_and_grad(units: Tensor, target: _Target,
                           alpha: float) -> Tuple[Tensor, Tensor]:
    """Relaxed summed loss of unit-norm rows and its gradient, row-blocked.

    With ``R = sigma * (C - A)`` (``sigma`` held constant, as the relaxation
    mask carries no gradient) the gradient is ``2 (R + R^T) U``, i.e.
    ``4 R U`` for a symmetric graph. Memory is ``O(block * N)``; the cost is
    ``O(N^2 D)``: two (symmetric) or three matrix products per block.

    Args:
        units (Tensor): ``(N, D)`` rows of norm 1 (or 0).
        target (_Target): The graph.
        alpha (float): Relaxation threshold.

    Returns:
        tuple[Tensor, Tensor]: float64 scalar loss, ``(N, D)`` gradient.
    """
    loss = 0.0
    grad = torch.zeros_like(units)
    for rows, residual in _residual_blocks(units, target.adjacency, alpha):
        flat = residual.view(-1)
        loss += torch.dot(flat, flat).item()
        if target.is_symmetric:
            grad[rows].addmm_(residual, units, alpha=4)
        else:
            grad[rows].addmm_(residual, units, alpha=2)
            grad.addmm_(residual.t(), units[rows], alpha=2)
    return units.new_tensor(loss, dtype=torch.float64), grad


def _evaluate_loss(embeddings: Tensor, adjacency: np.ndarray,
                   alpha: Optional[float]) -> float:
    """Summed loss computed directly in float64 on the CPU.

    The unrelaxed training loss is a difference of large sums (see
    :func:`_exact_loss_and_grad`), accurate only to float32 round-off of
    ``sum(C ** 2)``; this direct evaluation is exact to float64 and is what
    :class:`ASGEResult` reports.
    """
    units = F.normalize(embeddings.detach().cpu().double(), dim=1,
                        eps=COSINE_EPS)
    return sum(
        torch.dot(residual.view(-1), residual.view(-1)).item()
        for _, residual in _residual_blocks(units, torch.from_numpy(adjacency),
                                            alpha))


class _SummedASGELoss(torch.autograd.Function):
    """Summed ASGE loss of unit-norm rows; the gradient is made in forward."""

    @staticmethod
    def forward(ctx, units: Tensor, target: _Target,
                alpha: Optional[float]) -> Tensor:
        if alpha is None:
            loss, grad = _exact_loss_and_grad(units, target)
        else:
            loss, grad = _relaxed_loss_and_grad(units, target, alpha)
        ctx.save_for_backward(grad)
        return loss

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        grad, = ctx.saved_tensors
        return grad * grad_output.to(grad.dtype), None, None


def _summed_loss(embeddings: Tensor, target: _Target,
                 alpha: Optional[float]) -> Tensor:
    """Summed ASGE loss of ``embeddings`` against a prepared graph.

    Equal to ``asge_loss(embeddings, A, alpha, reduction='sum')`` (up to
    float32 rounding), differentiable with respect to ``embeddings``.

    Args:
        embeddings (Tensor): ``(N, D)`` embeddings.
        target (_Target): The graph, from :meth:`_Target.from_adjacency`.
        alpha (float, optional): Relaxation threshold; None disables it.

    Returns:
        Tensor: float64 scalar.
    """
    units = F.normalize(embeddings, dim=1, eps=COSINE_EPS)
    return _SummedASGELoss.apply(units, target, alpha)


def _validate_adjacency(adjacency: Union[np.ndarray, Tensor]) -> np.ndarray:
    """Return ``adjacency`` as a float64 array after checking it."""
    if isinstance(adjacency, Tensor):
        adjacency = adjacency.detach().cpu().numpy()
    adjacency = np.asarray(adjacency, dtype=np.float64)
    if adjacency.ndim != 2 or adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError('adjacency must be a square (N, N) matrix, got '
                         f'shape {adjacency.shape}')
    if not np.isfinite(adjacency).all():
        raise ValueError('adjacency contains NaN or inf')
    return adjacency


def _make_optimizer(name: str, params, lr: Optional[float]):
    """Build ``'adam'`` or ``'sgd'`` (momentum 0.9, as in the paper)."""
    if name not in DEFAULT_LR:
        raise ValueError(f'optimizer must be one of {tuple(DEFAULT_LR)}, '
                         f'got {name!r}')
    lr = DEFAULT_LR[name] if lr is None else lr
    if name == 'sgd':
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    return torch.optim.Adam(params, lr=lr)


def _progress_bar(enabled: bool) -> Progress:
    """A rich progress bar showing the current mean loss."""
    return Progress(
        TextColumn('[bold]ASGE'),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn('loss {task.fields[loss]:.3e}'),
        TimeElapsedColumn(),
        disable=not enabled)


@contextmanager
def _torch_threads(num_threads: Optional[int]) -> Iterator[None]:
    """Temporarily set PyTorch's intra-op thread count (None: unchanged)."""
    previous = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _optimise(net: ASGENet, target: _Target, alpha: Optional[float],
              optim: torch.optim.Optimizer, max_iters: int, patience: int,
              tol: float, progress: bool) -> Tuple[Tensor, List[float], bool]:
    """Run the fitting loop.

    Returns:
        tuple[Tensor, list[float], bool]: Embeddings of the step with the
        lowest loss, the mean loss of every step, and whether the loss
        stopped improving before ``max_iters``.
    """
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optim, max_iters)
    num_pairs = net.num_labels**2
    history: List[float] = []
    best_loss, best_embeddings = math.inf, None
    reference, stalled = math.inf, 0
    with _progress_bar(progress) as bar:
        task = bar.add_task('fit', total=max_iters, loss=math.nan)
        for step in range(max_iters):
            optim.zero_grad(set_to_none=True)
            embeddings = net()
            loss = _summed_loss(embeddings, target, alpha)
            loss.backward()
            optim.step()
            schedule.step()

            mean_loss = loss.item() / num_pairs
            if not math.isfinite(mean_loss):
                raise FloatingPointError(f'ASGE loss became {mean_loss} at '
                                         f'step {step}: lower the learning '
                                         'rate')
            history.append(mean_loss)
            bar.update(task, advance=1, loss=mean_loss)
            if mean_loss < best_loss:
                best_loss, best_embeddings = mean_loss, embeddings.detach()
            if mean_loss < reference * (1 - tol):
                reference, stalled = mean_loss, 0
            else:
                stalled += 1
                if stalled >= patience:
                    return best_embeddings, history, True
    return best_embeddings, history, False


def _warn_zero_embeddings(embeddings: Tensor,
                          alpha: Optional[float]) -> None:
    """Warn when some labels were embedded as the zero vector."""
    num_zero = int((embeddings.abs().sum(dim=1) == 0).sum())
    if not num_zero:
        return
    advice = ('fit with alpha=0.1 (the paper\'s setting for its large video '
              'graph), a lower lr or a larger embed_dim' if alpha is None else
              'try a lower lr or a larger embed_dim')
    warnings.warn(
        f'{num_zero} of {embeddings.shape[0]} ASGE label embeddings are zero '
        '(all final ReLU units off): their cosine with every label is 0, so '
        f'cross-modality attention ignores those labels; {advice}.',
        stacklevel=3)


def fit_asge(adjacency: Union[np.ndarray, Tensor],
             embed_dim: int = 256,
             hidden_dims: Optional[Sequence[int]] = None,
             alpha: Optional[float] = None,
             seed: int = 0,
             max_iters: int = 200,
             patience: int = 50,
             tol: float = 1e-3,
             lr: Optional[float] = None,
             optimizer: str = 'adam',
             progress: bool = True,
             device: Union[str, torch.device] = 'cpu',
             num_threads: Optional[int] = None) -> ASGEResult:
    """Fit ASGE label embeddings to a label graph.

    The summed loss of the paper (eq. 3-5) is minimised over the whole label
    set at every step. Fitting stops when the mean loss has not fallen below
    ``(1 - tol)`` times its last reference value for ``patience`` steps, or
    after ``max_iters`` steps; the learning rate follows a cosine decay to 0
    over ``max_iters``. The returned embeddings are those of the step with
    the lowest loss, computed as during fitting, i.e. with BatchNorm using
    the statistics of the whole label set (training mode); their loss is
    re-evaluated exactly in float64.

    Defaults (Adam, lr 0.03 with cosine decay, at most 200 steps) were chosen
    by measurement on two CPU cores (``benchmarks/bench_asge.py``,
    ``docs/benchmarks_graph_asge.md``): dense graphs need the larger step
    (on a graph of cosines of 24 random non-negative vectors, 200 steps
    reach a mean loss of 2e-4 at lr 0.03 but 7e-3 at lr 0.01), while the
    VOC and COCO-sized graphs fit to about 1e-5 and 1e-4 either way. The
    paper's SGD (momentum 0.9, lr 0.01 on the summed loss;
    ``optimizer='sgd'``) is available but fits worse (5e-4 on the COCO-sized
    graph) and, on graphs of 1,000 labels, switches almost every label off.

    Zero embeddings: the final ReLU makes embeddings non-negative, so a
    mostly-zero graph with many more labels than ``embed_dim`` is fitted
    best by switching many labels off (an all-zero embedding has cosine 0
    with every label). A warning is raised when any embedding is zero. The
    paper's relaxation ``alpha=0.1``, which it uses for its large video
    graph, removes that pressure: use it for large sparse graphs.

    Cost per step: without relaxation ``O(N D^2 + nnz(A) D)`` time and
    ``O(N^2)`` memory only for the graph itself (``4 N^2`` bytes, or a CSR
    copy when at most 5% of it is non-zero); with ``alpha`` set,
    ``O(N^2 D)`` time, the float32 graph and row blocks of about 16 MiB.

    Args:
        adjacency (np.ndarray | Tensor): ``(N, N)`` finite label graph, e.g.
            from :func:`mmcma.graph.build_label_graph`.
        embed_dim (int): Embedding size ``Ce``. Defaults to 256.
        hidden_dims (Sequence[int], optional): Hidden layer sizes. Defaults
            to ``(embed_dim, embed_dim)``.
        alpha (float, optional): Relaxation threshold ``alpha`` (paper: none
            for images, 0.1 for video). Defaults to None.
        seed (int): Seed of the local generator used for initialisation;
            fits on the CPU are deterministic for a given seed and number
            of threads (float reductions depend on the thread count).
        max_iters (int): Maximum number of steps. Defaults to 200.
        patience (int): Steps without sufficient improvement before
            stopping. Defaults to 50.
        tol (float): Relative improvement that counts. Defaults to 1e-3.
        lr (float, optional): Initial learning rate. Defaults to
            ``DEFAULT_LR[optimizer]``.
        optimizer (str): ``'adam'`` or ``'sgd'``. Defaults to ``'adam'``.
        progress (bool): Show a progress bar. Defaults to True.
        device (str | torch.device): Where to fit. Defaults to ``'cpu'``.
        num_threads (int, optional): PyTorch CPU threads during the fit,
            restored afterwards. None (default) keeps the current setting.
            On a busy machine one thread can be much faster than several.

    Returns:
        ASGEResult: Embeddings, final loss, steps and loss history.
    """
    adjacency = _validate_adjacency(adjacency)
    if max_iters < 1 or patience < 1 or tol < 0:
        raise ValueError('max_iters and patience must be >= 1 and tol >= 0, '
                         f'got {max_iters}, {patience}, {tol}')
    if alpha is not None and not math.isfinite(alpha):
        raise ValueError(f'alpha must be None or a finite number, got {alpha}')
    num_labels = adjacency.shape[0]
    hidden_dims = (embed_dim, embed_dim) if hidden_dims is None else tuple(
        hidden_dims)

    with _torch_threads(num_threads):
        net = ASGENet(num_labels, embed_dim, hidden_dims)
        net.reset_parameters(torch.Generator().manual_seed(seed))
        net.to(device).train()
        target = _Target.from_adjacency(adjacency, alpha is not None, device)
        optim = _make_optimizer(optimizer, net.parameters(), lr)
        embeddings, history, converged = _optimise(net, target, alpha, optim,
                                                   max_iters, patience, tol,
                                                   progress)
        del target
        loss = _evaluate_loss(embeddings, adjacency, alpha) / num_labels**2
    _warn_zero_embeddings(embeddings, alpha)
    return ASGEResult(
        embeddings=embeddings.cpu().numpy().astype(np.float32),
        loss=loss,
        num_iters=len(history),
        history=history,
        converged=converged)
