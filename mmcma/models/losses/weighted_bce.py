r"""Class-imbalance weighted binary cross-entropy (MS-CMA, eq. 12).

.. math::

    L = -\sum_k w_k \left[ y_k \log y^*_k + (1 - y_k) \log(1 - y^*_k)
    \right], \qquad
    w_k = y_k e^{\beta (1 - p_k)} + (1 - y_k) e^{\beta p_k},

where :math:`p_k` is the fraction of training images carrying label ``k``.
Rare labels get a larger weight on their positives, frequent labels a larger
weight on their negatives; ``beta = 0`` is plain BCE.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ..label_state import LabelStateMixin


def class_imbalance_weights(target: Tensor, label_freq: Tensor,
                            beta: float) -> Tensor:
    """Per-element weights ``w_k`` of eq. 12.

    Args:
        target (Tensor): Targets in [0, 1], shape (B, N).
        label_freq (Tensor): Training-set label frequencies ``p``, shape (N,).
        beta (float): Imbalance strength.

    Returns:
        Tensor: Weights of shape (B, N).
    """
    pos = torch.exp(beta * (1 - label_freq))
    neg = torch.exp(beta * label_freq)
    return target * pos + (1 - target) * neg


def class_imbalance_bce(pred: Tensor,
                        target: Tensor,
                        label_freq: Optional[Tensor],
                        beta: float,
                        from_logits: bool,
                        eps: float = 1e-6) -> Tensor:
    """Element-wise class-imbalance weighted BCE (eq. 12), not reduced.

    Args:
        pred (Tensor): Logits (``from_logits=True``) or probabilities, (B, N).
        target (Tensor): Targets in [0, 1], shape (B, N).
        label_freq (Tensor, optional): Label frequencies, shape (N,). Only
            needed when ``beta != 0``.
        beta (float): Imbalance strength; 0 gives plain BCE.
        from_logits (bool): Whether ``pred`` holds logits. Logits go through
            ``binary_cross_entropy_with_logits`` (log-sigmoid, stable for any
            magnitude); probabilities are clamped to ``[eps, 1 - eps]``, so
            each element costs at most ``-log(eps)`` and gradients stay finite
            (zero) at exactly 0 or 1.
        eps (float): Clamp for probabilities. Defaults to 1e-6.

    Returns:
        Tensor: Loss of shape (B, N).
    """
    target = target.to(pred.dtype)
    if from_logits:
        loss = F.binary_cross_entropy_with_logits(pred,
                                                  target,
                                                  reduction='none')
    else:
        loss = F.binary_cross_entropy(pred.clamp(eps, 1 - eps),
                                      target,
                                      reduction='none')
    if beta == 0:
        return loss
    if label_freq is None:
        raise ValueError('class_imbalance_bce needs label frequencies when '
                         f'beta != 0 (beta={beta}).')
    return loss * class_imbalance_weights(target, label_freq.to(pred), beta)


@MODELS.register_module()
class ClassImbalanceBCELoss(nn.Module, LabelStateMixin):
    """Class-imbalance weighted BCE of MS-CMA (eq. 12).

    With ``beta > 0`` the loss needs the training-set label frequencies
    p_k: it declares them as label state (``label_frequency``, filled by
    :class:`~mmcma.engine.hooks.LabelStateHook` or
    :func:`mmcma.fill_label_state`; checkpoints carry them). With
    ``beta = 0`` it needs nothing.

    Reduction follows mmpretrain's ``CrossEntropyLoss(use_sigmoid=True)``
    exactly: ``'mean'`` averages all B x N elements, or divides the sum by
    ``avg_factor`` when given. ``MultiLabelClsHead`` passes
    ``avg_factor=batch_size``, which gives eq. 12's sum over classes averaged
    over the batch. With ``beta=0`` and ``use_sigmoid=True`` the loss equals
    ``CrossEntropyLoss(use_sigmoid=True)`` for every reduction.

    Args:
        beta (float): Imbalance strength (0 on COCO, 0.4 on NUS-WIDE).
            Defaults to 0.
        use_sigmoid (bool): True if predictions are logits; False if they are
            probabilities (MS-CMA fuses per-scale probabilities).
            Defaults to True.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.
        num_classes (int, optional): Number of labels N; required when
            ``beta > 0`` (heads fill it in).
        eps (float): Probability clamp when ``use_sigmoid=False``.
            Defaults to 1e-6.
    """

    def __init__(self,
                 beta: float = 0.0,
                 use_sigmoid: bool = True,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 num_classes: Optional[int] = None,
                 eps: float = 1e-6):
        super().__init__()
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f'Unknown reduction {reduction!r}.')
        if beta < 0:
            raise ValueError(f'beta must be >= 0, got {beta}.')
        self.beta = float(beta)
        self.use_sigmoid = use_sigmoid
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.eps = eps
        if self.beta != 0:
            if num_classes is None:
                raise ValueError('ClassImbalanceBCELoss with beta > 0 needs '
                                 'num_classes (the size of its label '
                                 'frequencies).')
            self.declare_label_state('frequency', (num_classes, ))

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): Logits or probabilities (see ``use_sigmoid``),
                shape (B, N).
            target (Tensor): Targets in [0, 1], shape (B, N).
            weight (Tensor, optional): Sample-wise (B,) or element-wise
                (B, N) weights.
            avg_factor (float, optional): Divisor of the summed loss for
                ``'mean'``.
            reduction_override (str, optional): Overrides ``reduction``.

        Returns:
            Tensor: Scalar loss, or (B, N) for reduction ``'none'``.
        """
        assert reduction_override in (None, 'none', 'mean', 'sum')
        reduction = reduction_override or self.reduction
        if pred.shape != target.shape:
            raise ValueError(f'pred {tuple(pred.shape)} and target '
                             f'{tuple(target.shape)} must have equal shapes.')
        freq = self.label_state('frequency') if self.beta != 0 else None
        loss = class_imbalance_bce(pred, target, freq, self.beta,
                                   self.use_sigmoid, self.eps)
        if weight is not None:
            weight = weight.float()
            if weight.dim() == 1 and pred.dim() > 1:
                weight = weight.reshape(-1, 1)
        loss = weight_reduce_loss(loss,
                                  weight=weight,
                                  reduction=reduction,
                                  avg_factor=avg_factor)
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'beta={self.beta}, use_sigmoid={self.use_sigmoid}, '
                f'reduction={self.reduction!r}')
