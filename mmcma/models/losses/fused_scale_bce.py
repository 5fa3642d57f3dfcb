"""MS-CMA's loss: eq. 12 on the fused prediction of eq. 11, from the
per-scale logits."""
from typing import Tuple

import torch
from mmpretrain.registry import MODELS
from torch import Tensor

from .weighted_bce import ClassImbalanceBCELoss, mean_sigmoid_log_probabilities


@MODELS.register_module()
class FusedScaleBCELoss(ClassImbalanceBCELoss):
    """Class-imbalance BCE (eq. 12) of the mean of per-scale sigmoids.

    Takes the per-scale logits (B, S, N) that
    :class:`~mmcma.models.heads.MSCMAHead` gives its loss; ``y*`` is the
    mean of their sigmoids (eq. 11), evaluated in log space
    (:func:`~mmcma.models.losses.mean_sigmoid_log_probabilities`): a loss on
    the rounded fused probability would give no gradient to a branch whose
    sigmoid rounds to 0 or 1, and none at all when every branch is saturated
    the wrong way. Weights, label frequencies, reduction and arguments are
    those of :class:`ClassImbalanceBCELoss`; with one scale (S = 1) both
    losses are equal.
    """

    def log_probabilities(self, pred: Tensor,
                          target_shape: torch.Size) -> Tuple[Tensor, Tensor]:
        """``log y*`` and ``log(1 - y*)`` (B, N) of per-scale logits ``pred``
        (B, S, N).

        Raises:
            ValueError: ``pred`` is not (B, S, N) for targets (B, N), e.g.
                probabilities (B, N).
        """
        if (pred.dim() != len(target_shape) + 1
                or pred.shape[:1] + pred.shape[2:] != target_shape):
            raise ValueError(
                'FusedScaleBCELoss takes per-scale logits (B, S, N) for '
                f'targets (B, N) = {tuple(target_shape)}, got pred '
                f'{tuple(pred.shape)}. Probabilities are not accepted: their '
                'loss has no gradient where they round to 0 or 1.')
        return mean_sigmoid_log_probabilities(pred, dim=1)
