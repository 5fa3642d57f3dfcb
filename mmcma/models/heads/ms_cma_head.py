"""Multi-scale cross-modality attention (MS-CMA) head, eq. 11 of
*Cross-Modality Attention with Semantic Graph Embedding for Multi-Label
Classification* (AAAI 2020)."""
from typing import Dict, List, Optional, Sequence

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..losses import FusedScaleBCELoss
from ..losses.weighted_bce import sigmoid_log_probabilities
from ..utils import CMTFeature
from .cma_head import CMAHead


def fuse_logits(scale_logits: Tensor) -> Tensor:
    r"""Logit of the mean of the per-scale sigmoid probabilities (eq. 11).

    With :math:`p = \frac{1}{S} \sum_s \sigma(l_s)`, the fused logit is

    .. math::

        \log p - \log(1 - p) = \operatorname{logsumexp}_s \log\sigma(l_s)
        - \operatorname{logsumexp}_s \log\sigma(-l_s)

    (the ``log S`` of both means cancels). Both terms are taken in log space
    from the logits, never from a rounded probability: the logit stays
    finite for finite logits, also where ``p`` rounds to 0 or 1, and
    ``sigmoid`` of it gives ``p`` to float32 rounding.

    Args:
        scale_logits (Tensor): Per-scale logits, shape (B, S, N).

    Returns:
        Tensor: Fused logits of shape (B, N).
    """
    log_p, log_q = sigmoid_log_probabilities(scale_logits)
    return torch.logsumexp(log_p, dim=1) - torch.logsumexp(log_q, dim=1)


@MODELS.register_module()
class MSCMAHead(CMAHead):
    """Multi-scale CMA head: one CMA branch per scale, probabilities fused.

    Consumes the last ``len(in_channels)`` items of the
    :class:`~mmcma.models.necks.CMTNeck` output, so the scales follow the
    backbone's ``out_indices`` plus the neck's optional extra stage (ResNet
    ``out_indices=(2, 3)`` + extra stage: three scales). Each branch has its
    own attention and classifiers; all share the head's single
    ``label_embedding`` buffer. :meth:`get_attention` returns one map per
    scale, as :class:`CMAHead`'s does. ``forward`` returns logits, as every
    head: the logit of the mean of the per-scale probabilities (eq. 11,
    :func:`fuse_logits`), so ``predict``'s sigmoid gives the fused
    probabilities.

    The loss is eq. 12 on that fused prediction; it receives the per-scale
    logits (B, S, N) (:class:`~mmcma.models.losses.FusedScaleBCELoss`),
    which keep a saturated branch's gradient exact.

    Args:
        num_classes (int): Number of labels N.
        in_channels (Sequence[int]): Visual channels of each scale.
        embed_dim (int): Label-embedding dimension. Defaults to 256.
        attention (str): ``'cosine'`` or ``'self'`` for every branch.
            Defaults to ``'cosine'``.
        score (str): ``'relu'`` (paper) or ``'softmax'``, for every branch
            (see :class:`~mmcma.models.heads.CMAHead`). Defaults to
            ``'relu'``.
        temperature (float): Initial softmax temperature of each branch.
            Defaults to 0.1.
        loss (dict): Loss config of a
            :class:`~mmcma.models.losses.FusedScaleBCELoss` (it takes the
            per-scale logits). Defaults to ``dict(type='FusedScaleBCELoss')``
            (beta 0).
        thr (float, optional): Score threshold of positive predictions.
        topk (int, optional): Predict the k best labels as positive.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: Sequence[int],
                 embed_dim: int = 256,
                 attention: str = 'cosine',
                 score: str = 'relu',
                 temperature: float = 0.1,
                 loss: Dict = dict(type='FusedScaleBCELoss'),
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(num_classes=num_classes,
                         in_channels=in_channels,
                         embed_dim=embed_dim,
                         attention=attention,
                         score=score,
                         temperature=temperature,
                         loss=loss,
                         thr=thr,
                         topk=topk,
                         init_cfg=init_cfg)
        if not isinstance(self.loss_module, FusedScaleBCELoss):
            raise ValueError(
                'MSCMAHead gives its loss per-scale logits (B, S, N); '
                f'{type(self.loss_module).__name__} does not take them: use '
                "loss=dict(type='FusedScaleBCELoss').")

    @staticmethod
    def _branch_channels(in_channels: Sequence[int]) -> List[int]:
        """Visual channels of each branch."""
        if isinstance(in_channels, int) or len(in_channels) == 0:
            raise TypeError('MSCMAHead needs a sequence of per-scale '
                            f'in_channels, got {in_channels!r}.')
        return list(in_channels)

    def scale_logits(self, feats: Sequence[CMTFeature]) -> Tensor:
        """Logits of every branch, stacked to (B, S, N)."""
        return torch.stack(self.branch_logits(feats), dim=1)

    def forward(self, feats: Sequence[CMTFeature]) -> Tensor:
        """Fused logits (B, N): the logit of eq. 11's mean probability."""
        return fuse_logits(self.scale_logits(feats))

    def loss(self, feats: Sequence[CMTFeature], data_samples: List[DataSample],
             **kwargs) -> dict:
        """Eq. 12 on the fused prediction, from the per-scale logits.

        Args:
            feats (Sequence[CMTFeature]): Neck output.
            data_samples (list[DataSample]): Samples with ``gt_label`` or
                ``gt_score``.

        Returns:
            dict[str, Tensor]: ``{'loss': ...}``.
        """
        # (B, S, N): mmpretrain's _get_loss reads B and N from dims 0 and -1.
        return self._get_loss(self.scale_logits(feats), data_samples, **kwargs)
