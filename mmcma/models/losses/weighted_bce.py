r"""Class-imbalance weighted binary cross-entropy (eq. 12 of *Cross-Modality
Attention with Semantic Graph Embedding for Multi-Label Classification*, AAAI
2020).

.. math::

    L = -\sum_k w_k \left[ y_k \log y^*_k + (1 - y_k) \log(1 - y^*_k)
    \right], \qquad
    w_k = y_k e^{\beta (1 - p_k)} + (1 - y_k) e^{\beta p_k},

where :math:`p_k` is the fraction of training images carrying label ``k``.
Rare labels get a larger weight on their positives, frequent labels a larger
weight on their negatives; ``beta = 0`` is plain BCE.

The loss never sees a probability: :class:`ClassImbalanceBCELoss` takes one
logit per label (:math:`y^* = \sigma(x)`);
:class:`~mmcma.models.losses.FusedScaleBCELoss` takes one per scale and label,
whose sigmoids are averaged (MS-CMA's fused prediction, eq. 11). Both turn
them into :math:`\log y^*` and :math:`\log(1 - y^*)` in log space, so a
saturated prediction (``sigmoid`` exactly 0 or 1 in float32) still has its
exact, non-zero gradient.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ..label_state import LabelStateMixin


def sigmoid_log_probabilities(logits: Tensor) -> Tuple[Tensor, Tensor]:
    """``log p`` and ``log(1 - p)`` of ``p = sigmoid(logits)``.

    Args:
        logits (Tensor): Logits of any shape.

    Returns:
        tuple[Tensor, Tensor]: ``log p`` and ``log(1 - p)``, each shaped like
        ``logits``; finite and with non-zero gradients for finite logits.
    """
    return F.logsigmoid(logits), F.logsigmoid(-logits)


def mean_sigmoid_log_probabilities(logits: Tensor,
                                   dim: int) -> Tuple[Tensor, Tensor]:
    r"""Eq. 11 in log space: log-probabilities of the mean of S sigmoids.

    With :math:`p = \frac{1}{S} \sum_s \sigma(l_s)`:

    .. math::

        \log p = \operatorname{logsumexp}_s \log\sigma(l_s) - \log S,
        \qquad
        \log(1 - p) = \operatorname{logsumexp}_s \log\sigma(-l_s) - \log S.

    Computing ``log(1 - p)`` from the sigmoids of ``-l_s`` (instead of
    ``1 - p``) keeps it exact when ``p`` rounds to 1. The gradient of each
    branch is its share of the mixture times its own sigmoid gradient, so a
    branch saturated the wrong way keeps a gradient of size ``1/S``.

    Args:
        logits (Tensor): Logits with the S scales along ``dim``, e.g.
            (B, S, N).
        dim (int): The scale dimension.

    Returns:
        tuple[Tensor, Tensor]: ``log p`` and ``log(1 - p)`` with ``dim``
        removed, e.g. (B, N).
    """
    log_num = math.log(logits.size(dim))
    log_p, log_q = sigmoid_log_probabilities(logits)
    return (torch.logsumexp(log_p, dim) - log_num,
            torch.logsumexp(log_q, dim) - log_num)


def class_imbalance_weights(target: Tensor, label_frequency: Tensor,
                            beta: float) -> Tensor:
    """Per-element weights ``w_k`` of eq. 12.

    Args:
        target (Tensor): Targets in [0, 1], shape (B, N).
        label_frequency (Tensor): Training-set label frequencies ``p``, shape (N,).
        beta (float): Imbalance strength.

    Returns:
        Tensor: Weights of shape (B, N).
    """
    pos = torch.exp(beta * (1 - label_frequency))
    neg = torch.exp(beta * label_frequency)
    return target * pos + (1 - target) * neg


def class_imbalance_bce(log_prob: Tensor, log_prob_neg: Tensor, target: Tensor,
                        label_frequency: Optional[Tensor], beta: float) -> Tensor:
    """Element-wise class-imbalance weighted BCE (eq. 12), not reduced.

    Args:
        log_prob (Tensor): ``log y*`` of the predicted probabilities, (B, N).
        log_prob_neg (Tensor): ``log(1 - y*)``, (B, N). Both come from
            :func:`sigmoid_log_probabilities` or
            :func:`mean_sigmoid_log_probabilities`, never from ``log`` of a
            probability (which is ``-inf`` once it rounds to 0 or 1).
        target (Tensor): Targets in [0, 1], shape (B, N).
        label_frequency (Tensor, optional): Label frequencies, shape (N,). Only
            needed when ``beta != 0``.
        beta (float): Imbalance strength; 0 gives plain BCE.

    Returns:
        Tensor: Loss of shape (B, N).
    """
    target = target.to(log_prob.dtype)
    loss = -(target * log_prob + (1 - target) * log_prob_neg)
    if beta == 0:
        return loss
    if label_frequency is None:
        raise ValueError('class_imbalance_bce needs label frequencies when '
                         f'beta != 0 (beta={beta}).')
    return loss * class_imbalance_weights(target, label_frequency.to(log_prob),
                                          beta)


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
    over the batch. With ``beta=0`` the loss equals
    ``CrossEntropyLoss(use_sigmoid=True)`` for every reduction.

    Args:
        beta (float): Imbalance strength (0 on COCO, 0.4 on NUS-WIDE).
            Defaults to 0.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.
        num_classes (int, optional): Number of labels N; required when
            ``beta > 0`` (heads fill it in).
    """

    def __init__(self,
                 beta: float = 0.0,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 num_classes: Optional[int] = None):
        super().__init__()
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f'Unknown reduction {reduction!r}.')
        if beta < 0:
            raise ValueError(f'beta must be >= 0, got {beta}.')
        self.beta = float(beta)
        self.reduction = reduction
        self.loss_weight = loss_weight
        if self.beta != 0:
            if num_classes is None:
                raise ValueError(f'{type(self).__name__} with beta > 0 '
                                 'needs num_classes (the size of its label '
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
            pred (Tensor): Predictions, logits (B, N) here (per-scale logits
                (B, S, N) for :class:`FusedScaleBCELoss`).
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
        log_prob, log_prob_neg = self.log_probabilities(pred, target.shape)
        freq = self.label_state('frequency') if self.beta != 0 else None
        loss = class_imbalance_bce(log_prob, log_prob_neg, target, freq,
                                   self.beta)
        if weight is not None:
            weight = weight.float()
            if weight.dim() == 1 and target.dim() > 1:
                weight = weight.reshape(-1, 1)
        loss = weight_reduce_loss(loss,
                                  weight=weight,
                                  reduction=reduction,
                                  avg_factor=avg_factor)
        return self.loss_weight * loss

    def log_probabilities(self, pred: Tensor,
                          target_shape: torch.Size) -> Tuple[Tensor, Tensor]:
        """``log y*`` and ``log(1 - y*)`` (B, N) of logits ``pred`` (B, N).

        Raises:
            ValueError: ``pred`` is not shaped like the targets.
        """
        if pred.shape != target_shape:
            raise ValueError(f'{type(self).__name__}: pred '
                             f'{tuple(pred.shape)} and target '
                             f'{tuple(target_shape)} must have equal shapes.')
        return sigmoid_log_probabilities(pred)

    def extra_repr(self) -> str:
        return f'beta={self.beta}, reduction={self.reduction!r}'


def sized_loss_config(loss: dict, num_classes: int) -> dict:
    """A copy of a head's ``loss`` config with ``num_classes`` filled in for
    :class:`ClassImbalanceBCELoss` and its subclasses: their frequency
    buffer then has its size from the start, and checkpoints load strictly.
    """
    loss = dict(loss)
    kind = loss.get('type')
    if isinstance(kind, str):
        kind = MODELS.get(kind)
    if isinstance(kind, type) and issubclass(kind, ClassImbalanceBCELoss):
        loss.setdefault('num_classes', num_classes)
    return loss
