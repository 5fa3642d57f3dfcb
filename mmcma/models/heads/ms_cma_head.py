"""Multi-scale cross-modality attention (MS-CMA) head, eq. 11."""
from typing import Dict, List, Optional, Sequence

import torch
from mmpretrain.registry import MODELS
from torch import Tensor

from ..utils import CMTFeature
from .cma_head import CMAHead


def fuse_probabilities(logits: Sequence[Tensor]) -> Tensor:
    """Mean of the per-scale sigmoid probabilities (eq. 11).

    Args:
        logits (Sequence[Tensor]): Per-scale logits, each (B, N).

    Returns:
        Tensor: Fused probabilities of shape (B, N).
    """
    return torch.stack([x.sigmoid() for x in logits]).mean(dim=0)


@MODELS.register_module()
class MSCMAHead(CMAHead):
    """Multi-scale CMA head: one CMA branch per scale, probabilities fused.

    Consumes the last ``len(in_channels)`` items of the
    :class:`~mmcma.models.necks.CMTNeck` output, so the scales follow the
    backbone's ``out_indices`` plus the neck's optional extra stage (ResNet
    ``out_indices=(2, 3)`` + extra stage: three scales). Each branch has its
    own attention and classifiers; all share the head's single
    ``label_embedding`` buffer. :meth:`get_attention` returns one map per
    scale, as :class:`CMAHead`'s does. ``forward`` returns the mean of the per-scale
    probabilities (eq. 11), and the loss is computed on them, so it must take
    probabilities (``use_sigmoid=False``).

    Args:
        num_classes (int): Number of labels N.
        in_channels (Sequence[int]): Visual channels of each scale.
        embed_dim (int): Label-embedding dimension. Defaults to 256.
        attention (str): ``'cosine'`` or ``'self'`` for every branch.
            Defaults to ``'cosine'``.
        loss (dict): Loss config on probabilities. Defaults to
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
                 loss: Dict = dict(type='ClassImbalanceBCELoss',
                                   use_sigmoid=False),
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(num_classes=num_classes,
                         in_channels=in_channels,
                         embed_dim=embed_dim,
                         attention=attention,
                         loss=loss,
                         thr=thr,
                         topk=topk,
                         init_cfg=init_cfg)

    @staticmethod
    def _branch_channels(in_channels: Sequence[int]) -> List[int]:
        """Visual channels of each branch."""
        if isinstance(in_channels, int) or len(in_channels) == 0:
            raise TypeError('MSCMAHead needs a sequence of per-scale '
                            f'in_channels, got {in_channels!r}.')
        return list(in_channels)

    def forward(self, feats: Sequence[CMTFeature]) -> Tensor:
        """Fused probabilities (B, N) (eq. 11)."""
        return fuse_probabilities(self.branch_logits(feats))
