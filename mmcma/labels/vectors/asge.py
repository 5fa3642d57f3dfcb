"""ASGE: adjacency-based similarity graph embedding (section 3.1 of
*Cross-Modality Attention with Semantic Graph Embedding for Multi-Label
Classification*, AAAI 2020).

A small network ``Phi`` (:class:`ASGENet`) maps each label's one-hot vector
to an embedding ``e_i``; :func:`fit_asge` fits it so that cosine
similarities reproduce a label graph, minimising the loss of
:mod:`mmcma.labels.vectors.asge_loss`. The embeddings are fitted once, before
classifier training, and frozen.
"""
import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                           TextColumn, TimeElapsedColumn)
from torch import Tensor

from ...io import InputOptionError
from .asge_loss import (ASGETarget, column_sampler, evaluate_asge_loss,
                        summed_asge_loss)
from .asge_net import ASGENet

# Learning rates used when ``lr`` is not given, per optimiser. SGD's is the
# paper's (momentum 0.9, lr 0.01 on the summed loss).
DEFAULT_LR = {'adam': 0.03, 'sgd': 0.01}
# What ``alpha='auto'`` means above ``embed_dim`` labels (the paper's value
# for its video graph).
AUTO_ALPHA = 0.1
# Graph entries may exceed the cosine range [-1, 1] by this much (rounding).
_RANGE_SLACK = 1e-6


@dataclass
class ASGEResult:
    """Outcome of :func:`fit_asge`.

    Attributes:
        embeddings (np.ndarray): ``(N, embed_dim)`` float32 label embeddings,
            those with the lowest loss seen during fitting.
        loss (float): Their loss averaged over the ``N ** 2`` pairs
            (``L / N ** 2``, relaxed when ``alpha`` is set).
        num_iters (int): Optimisation steps taken.
        history (list[float]): Mean loss at every step, before its update,
            as minimised: unrelaxed, from the float32 expansion of
            :func:`~mmcma.labels.vectors.asge_loss.exact_loss_and_grad`
            (accurate
            to about 1e-7 of the mean squared cosine); relaxed with
            ``num_sampled < N``, the sampled estimate.
        converged (bool): Whether fitting stopped because the loss stopped
            improving (False: it reached ``max_iters``).
        alpha (float, optional): The relaxation threshold fitted with
            (``'auto'`` resolved).
    """

    embeddings: np.ndarray
    loss: float
    num_iters: int
    history: List[float]
    converged: bool
    alpha: Optional[float] = None


def _validate_adjacency(adjacency: Union[np.ndarray, Tensor]) -> np.ndarray:
    """Return ``adjacency`` as a float64 array after checking it."""
    if isinstance(adjacency, Tensor):
        adjacency = adjacency.detach().cpu().numpy()
    adjacency = np.asarray(adjacency, dtype=np.float64)
    if adjacency.ndim != 2 or adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError('adjacency must be a square (N, N) matrix, got '
                         f'shape {adjacency.shape}')
    # min and max propagate NaN and show inf, without (N, N) temporaries.
    low, high = ((adjacency.min(), adjacency.max()) if adjacency.size else
                 (0.0, 0.0))
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError('adjacency contains NaN or inf')
    if max(-low, high) > 1 + _RANGE_SLACK:
        raise ValueError(
            'adjacency entries are fitted by cosine similarities and must lie '
            f'in [-1, 1], got values in [{low:g}, {high:g}]: pass a '
            'normalised graph such as mmcma.build_label_graph(labels) (not '
            'co-occurrence counts)')
    return adjacency


def _resolve_alpha(alpha: Union[float, str, None], num_labels: int,
                   embed_dim: int) -> Optional[float]:
    """``alpha`` checked; ``'auto'``: None up to ``embed_dim`` labels, else
    :data:`AUTO_ALPHA` (see :func:`fit_asge`)."""
    if isinstance(alpha, str):
        if alpha != 'auto':
            raise InputOptionError(
                "alpha must be 'auto', None or a finite number, "
                f'got {alpha!r}')
        return None if num_labels <= embed_dim else AUTO_ALPHA
    if alpha is not None and not 0 < alpha <= 1:
        raise InputOptionError(f"alpha must be 'auto', None or in (0, 1], got "
                               f'{alpha}')
    return alpha


def _make_optimizer(name: str, params, lr: Optional[float]):
    """Build ``'adam'`` or ``'sgd'`` (momentum 0.9, as in the paper)."""
    if name not in DEFAULT_LR:
        raise InputOptionError(
            f'optimizer must be one of {tuple(DEFAULT_LR)}, '
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


def _optimise(net: ASGENet, target: ASGETarget,
              columns: Iterator[Optional[Tensor]],
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
            loss = summed_asge_loss(embeddings, target, next(columns))
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


def _warn_zero_embeddings(embeddings: Tensor) -> None:
    """Warn when some labels were embedded as the zero vector."""
    num_zero = int((embeddings.abs().sum(dim=1) == 0).sum())
    if num_zero:
        warnings.warn(
            f'{num_zero} of {embeddings.shape[0]} ASGE label embeddings are '
            'zero (all final ReLU units off): their cosine with every label '
            'is 0, so cross-modality attention ignores those labels; fit '
            "with final_activation='softmax' (the default).",
            stacklevel=3)


def fit_asge(adjacency: Union[np.ndarray, Tensor],
             embed_dim: int = 256,
             hidden_dims: Optional[Sequence[int]] = None,
             alpha: Union[float, str, None] = 'auto',
             seed: int = 0,
             max_iters: int = 200,
             patience: int = 50,
             tol: float = 1e-3,
             lr: Optional[float] = None,
             optimizer: str = 'adam',
             num_sampled: Optional[int] = 256,
             final_activation: str = 'softmax',
             progress: bool = True,
             device: Union[str, torch.device] = 'cpu',
             num_threads: Optional[int] = None) -> ASGEResult:
    """Fit ASGE label embeddings to a label graph.

    The summed loss of the paper (eq. 3-5,
    :mod:`mmcma.labels.vectors.asge_loss`)
    is minimised over the whole label set at every step. Fitting stops when
    the mean loss has not fallen below ``(1 - tol)`` times its last reference
    value for ``patience`` steps, or after ``max_iters`` steps; the learning
    rate follows a cosine decay to 0 over ``max_iters``. The returned
    embeddings are those of the step with the lowest loss, computed as during
    fitting (BatchNorm with the statistics of the whole label set); their
    loss is re-evaluated exactly, in float64.

    Collapse, and the defaults that prevent it. The paper's network ends
    with a ReLU, so a label whose final units are all off is the zero
    vector: its cosines (taken as 0) cost it only its diagonal and its own
    graph entries, and no gradient reaches it again. As at most
    ``embed_dim`` non-negative vectors are mutually orthogonal, for
    ``N > embed_dim`` and a mostly-zero graph that is the cheapest fit:
    most labels of a large sparse graph come out zero
    (``docs/benchmarks_graph_asge.md`` has the counts).

    * ``final_activation='softmax'`` replaces the last ReLU: embeddings stay
      non-negative, as the attention ``ReLU(cos)`` over non-negative visual
      features expects, but sum to 1, so none is zero and every label keeps
      a gradient. The cosine ignores scale and so sees ``exp(z)``:
      BatchNorm's learnt scale is an inverse temperature, and embeddings can
      be as sparse as ReLU ones. ``'relu'`` is the paper's network; a
      warning then counts zero embeddings.
    * ``alpha='auto'``: no relaxation while ``N <= embed_dim`` (unrelated
      labels can be orthogonal), else the paper's 0.1, under which unrelated
      pairs only need cosines below 0.1, which far more than ``embed_dim``
      non-negative vectors can have. This keeps the paper's recipe: none for
      its image sets (VOC 20, COCO 80, NUS-WIDE 81 labels; the image configs
      leave ``alpha`` unset, ``embed_dim`` 256) and 0.1 for YouTube-8M
      (``configs/_base_/models/cma_snet.py`` sets it).

    With relaxation, pairs with ``A_ij >= alpha`` (few) count exactly at
    every step, the others (which count only while their cosine reaches
    ``alpha``) against ``num_sampled`` labels drawn without replacement: an
    unbiased estimate of loss and gradient, exact for ``N <= num_sampled``.
    Cost per step beyond the network's ``O(N D^2)``: unrelaxed
    ``O(N D^2 + nnz(A) D)`` (Gram expansion), relaxed
    ``O((nnz_alpha + N num_sampled) D)``; memory: the float32 graph (CSR when
    at most 5% is non-zero). The final exact evaluation costs ``O(N^2 D)``
    once. Defaults (Adam, lr 0.03 with cosine decay, at most 200 steps) and
    timings: ``benchmarks/bench_asge.py``, ``docs/benchmarks_graph_asge.md``.

    Args:
        adjacency (np.ndarray | Tensor): ``(N, N)`` finite label graph with
            entries in ``[-1, 1]``, e.g. from
            :func:`mmcma.labels.graphs.build_label_graph`.
        embed_dim (int): Embedding size ``Ce``. Defaults to 256.
        hidden_dims (Sequence[int], optional): Hidden layer sizes. Defaults
            to ``(embed_dim, embed_dim)``.
        alpha (float | str | None): Relaxation threshold ``alpha``; None
            for none; ``'auto'`` (default): none for ``N <= embed_dim``,
            :data:`AUTO_ALPHA` (0.1) above.
        seed (int): Seed of the local generators used for initialisation
            and sampling; fits on the CPU are deterministic for a given seed
            and number of threads (float reductions depend on the thread
            count).
        max_iters (int): Maximum number of steps. Defaults to 200.
        patience (int): Steps without sufficient improvement before
            stopping. Defaults to 50.
        tol (float): Relative improvement that counts. Defaults to 1e-3.
        lr (float, optional): Initial learning rate. Defaults to
            ``DEFAULT_LR[optimizer]``.
        optimizer (str): ``'adam'`` or ``'sgd'``. Defaults to ``'adam'``.
        num_sampled (int, optional): Labels drawn per step by the relaxed
            loss (see above); None: all, exact but ``O(N^2 D)`` per step.
            Defaults to 256.
        final_activation (str): ``'softmax'`` (default) or ``'relu'``.
        progress (bool): Show a progress bar. Defaults to True.
        device (str | torch.device): Where to fit. Defaults to ``'cpu'``.
        num_threads (int, optional): PyTorch CPU threads during the fit,
            restored afterwards. None (default) keeps the current setting.
            On a busy machine one thread can be much faster than several.

    Returns:
        ASGEResult: Embeddings, final loss, steps, loss history and the
        relaxation threshold used.
    """
    adjacency = _validate_adjacency(adjacency)
    if max_iters < 1 or patience < 1 or tol < 0:
        raise InputOptionError(
            'max_iters and patience must be >= 1 and tol >= 0, '
            f'got {max_iters}, {patience}, {tol}')
    if num_sampled is not None and num_sampled < 1:
        raise InputOptionError(f'num_sampled must be None or >= 1, got '
                               f'{num_sampled}')
    num_labels = adjacency.shape[0]
    alpha = _resolve_alpha(alpha, num_labels, embed_dim)
    hidden_dims = (embed_dim, embed_dim) if hidden_dims is None else tuple(
        hidden_dims)

    with _torch_threads(num_threads):
        net = ASGENet(num_labels, embed_dim, hidden_dims, final_activation)
        net.reset_parameters(torch.Generator().manual_seed(seed))
        net.to(device).train()
        target = ASGETarget.from_adjacency(adjacency, alpha, device)
        columns = column_sampler(target, num_sampled, seed)
        optim = _make_optimizer(optimizer, net.parameters(), lr)
        embeddings, history, converged = _optimise(net, target, columns,
                                                   optim, max_iters, patience,
                                                   tol, progress)
        del target
        loss = evaluate_asge_loss(embeddings, adjacency, alpha) / num_labels**2
    _warn_zero_embeddings(embeddings)
    return ASGEResult(
        embeddings=embeddings.cpu().numpy().astype(np.float32),
        loss=loss,
        num_iters=len(history),
        history=history,
        converged=converged,
        alpha=alpha)
