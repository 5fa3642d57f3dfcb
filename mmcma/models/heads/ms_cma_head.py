"""Multi-scale cross-modality attention (MS-CMA) head, eq. 11."""
from typing import Dict, List, Optional, Sequence

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..losses.weighted_bce import mean_sigmoid_log_probabilities
from ..utils import CMTFeature
from .cma_head import CMAHead


def fuse_probabilities(scale_logits: Tensor) -> Tensor:
    """Mean of the per-scale sigmoid probabilities (eq. 11).

    Evaluated as ``exp`` of :func:`mean_sigmoid_log_probabilities`, the form
    the loss uses, so predictions and loss share one implementation.

    Args:
        scale_logits (Tensor): Per-scale logits, shape (B, S, N).

    Returns:
        Tensor: Fused probabilities of shape (B, N).
    """
    return mean_sigmoid_log_probabilities(scale_logits, dim=1)[0].exp()


@MODELS.register_module()
class MSCMAHead(CMAHead):
    """Multi-scale CMA head: one CMA branch per scale, probabilities fused.

    Consumes the last ``len(in_channels)`` items of the
    :class:`~mmcma.models.necks.CMTNeck` output, so the scales follow the
    backbone's ``out_indices`` plus the neck's optional extra stage (ResNet
    ``out_indices=(2, 3)`` + extra stage: three scales). Each branch has its
    own attention and classifiers; all share the head's single
    ``label_embedding`` buffer. :meth:`get_attention` returns one map per
    scale, as :class:`CMAHead`'s does. ``forward`` (and so ``predict``)
    returns the mean of the per-scale probabilities (eq. 11).

    The loss is eq. 12 on that fused prediction, but it receives the
    per-scale logits (B, S, N) and evaluates eq. 11 in log space
    (``ClassImbalanceBCELoss(use_sigmoid=False)``): a loss on the fused
    probabilities would give no gradient to a branch whose sigmoid rounds to
    0 or 1, and none at all when every branch is saturated the wrong way.

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
        loss (dict): Loss config; it must take per-scale logits (declare
            ``takes_scale_logits``). Defaults to
            ``dict(type='ClassImbalanceBCELoss', use_sigmoid=False)``.
        thr (float, optional): Score threshold of positive predictions.
        topk (int, optional): Predict the k best labels as positive.
        init_cfg (dict, optional): Initialisation config.
    """

    fuses_probabilities = True

    def __init__(self,
                 num_classes: int,
                 in_channels: Sequence[int],
                 embed_dim: int = 256,
                 attention: str = 'cosine',
                 score: str = 'relu',
                 temperature: float = 0.1,
                 loss: Dict = dict(type='ClassImbalanceBCELoss',
                                   use_sigmoid=False),
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
        if not getattr(self.loss_module, 'takes_scale_logits', False):
            raise ValueError(
                'MSCMAHead gives its loss per-scale logits (B, S, N); '
                f'{type(self.loss_module).__name__} does not take them: use '
                'ClassImbalanceBCELoss(use_sigmoid=False).')

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
        """Fused probabilities (B, N) (eq. 11)."""
        return fuse_probabilities(self.scale_logits(feats))

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
