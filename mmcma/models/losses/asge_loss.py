"""The ASGE graph-embedding loss (MS-CMA, eq. 3-5)."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import Tensor, nn

REDUCTIONS = ('sum', 'mean')
# Cosine similarities of zero embeddings are computed as 0 (never NaN).
COSINE_EPS = 1e-12


def cosine_similarity_matrix(embeddings: Tensor,
                             eps: float = COSINE_EPS) -> Tensor:
    """Pairwise cosine similarities of the rows of ``embeddings``.

    Args:
        embeddings (Tensor): ``(N, D)`` embeddings.
        eps (float): Lower bound of the norms; a zero row has cosine 0 with
            every row, itself included.

    Returns:
        Tensor: ``(N, N)`` cosine similarities.
    """
    units = F.normalize(embeddings, dim=1, eps=eps)
    return units @ units.t()


def asge_loss(embeddings: Tensor,
              adjacency: Tensor,
              alpha: Optional[float] = None,
              reduction: str = 'sum') -> Tensor:
    """Adjacency-based similarity graph embedding loss.

    ``L = sum_ij sigma_ij * (cos(e_i, e_j) - A_ij) ** 2`` with the relaxation
    ``sigma_ij = 0 if (A_ij < alpha and cos(e_i, e_j) < alpha) else 1``: pairs
    that the graph and the embeddings both call unrelated are not pushed
    further apart. The mask ``sigma`` carries no gradient. This form builds
    the ``(N, N)`` cosine matrix; :func:`mmcma.embedding.fit_asge` uses an
    equivalent, memory-lean form for large graphs.

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
        raise ValueError(f'reduction must be one of {REDUCTIONS}, '
                         f'got {reduction!r}')
    num_labels = embeddings.shape[0]
    if embeddings.dim() != 2 or adjacency.shape != (num_labels, num_labels):
        raise ValueError('expected embeddings (N, D) and adjacency (N, N), '
                         f'got {tuple(embeddings.shape)} and '
                         f'{tuple(adjacency.shape)}')
    adjacency = adjacency.to(embeddings)
    cosine = cosine_similarity_matrix(embeddings)
    squared_error = (cosine - adjacency).square()
    if alpha is not None:
        with torch.no_grad():
            relaxed = (adjacency < alpha) & (cosine < alpha)
        squared_error = squared_error.masked_fill(relaxed, 0.0)
    if reduction == 'sum':
        return squared_error.sum()
    return squared_error.mean()


@MODELS.register_module()
class ASGELoss(nn.Module):
    """Module wrapper of :func:`asge_loss`, registered in ``MODELS``.

    Args:
        alpha (float, optional): Relaxation threshold. Defaults to None.
        reduction (str): ``'sum'`` or ``'mean'``. Defaults to ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 alpha: Optional[float] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f'reduction must be one of {REDUCTIONS}, '
                             f'got {reduction!r}')
        self.alpha = alpha
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, embeddings: Tensor, adjacency: Tensor) -> Tensor:
        """Weighted ASGE loss.

        Args:
            embeddings (Tensor): ``(N, D)`` label embeddings.
            adjacency (Tensor): ``(N, N)`` label graph.

        Returns:
            Tensor: Scalar loss.
        """
        return self.loss_weight * asge_loss(embeddings, adjacency,
                                            self.alpha, self.reduction)
