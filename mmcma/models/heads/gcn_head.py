"""The classifier of the GCN family (ML-GCN, KSSNet): the pooled feature
scored by the label classifiers that a label GCN computes.

``logits = pool(x) . E^(L)^T`` (B, N), with ``E^(L)`` (N, C) the label GCN's
last output, which :class:`~mmcma.models.backbones.LateralGCNBackbone` hands
over inside each :class:`~mmcma.models.utils.GCNFeature`. ML-GCN and KSSNet
differ in the backbone's config (GCN depth, lateral connections) and the
label graph, not here.
"""
from typing import Dict, Optional, Sequence

from mmpretrain.models.heads import MultiLabelClsHead
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ..losses.weighted_bce import sized_loss_config
from ..utils import POOLINGS, GCNFeature, MaskedFeature, feature_problem


def _last_gcn_feature(feats: Sequence[GCNFeature]) -> GCNFeature:
    """The last backbone output, which must be a :class:`GCNFeature`."""
    if isinstance(feats, GCNFeature):
        return feats
    last = feats[-1] if isinstance(feats, (tuple, list)) and feats else feats
    if not isinstance(last, GCNFeature):
        raise TypeError(
            'GCNClsHead expects GCNFeature(feat, classifiers, mask) items '
            'from a LateralGCNBackbone (the label classifiers come with '
            f'the features), got {type(last).__name__}')
    return last


@MODELS.register_module()
class GCNClsHead(MultiLabelClsHead):
    """Scores of the pooled last feature against the label classifiers.

    Args:
        num_classes (int): Labels N.
        in_channels (int): Channels C of the last feature (and of the
            classifiers).
        pool (str): ``'max'`` (ML-GCN's global max pooling, the default) or
            ``'avg'``; masked positions of a sequence never count.
        dropout (float): Dropout on the pooled feature (KSSNet's Charades
            setting: 0.5). Defaults to 0.
        loss (dict): Loss config. Defaults to
            ``dict(type='MeanOverLabelsLoss')``: ML-GCN's
            ``MultiLabelSoftMarginLoss``, BCE with logits averaged over batch
            and labels (:class:`~mmcma.models.losses.MeanOverLabelsLoss`).
        thr (float, optional): Score threshold of positive predictions.
        topk (int, optional): Predict the k best labels as positive. If
            neither is set, ``thr=0.5``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 pool: str = 'max',
                 dropout: float = 0.0,
                 loss: Dict = dict(type='MeanOverLabelsLoss'),
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(loss=sized_loss_config(loss, num_classes), thr=thr,
                         topk=topk, init_cfg=init_cfg)
        if pool not in POOLINGS:
            raise ValueError(f'pool must be one of {sorted(POOLINGS)}, got '
                             f'{pool!r}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.pool = pool
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def pre_logits(self, feats: Sequence[GCNFeature]) -> Tensor:
        """The pooled last feature (B, C)."""
        feat, _, mask = _last_gcn_feature(feats)
        problem = feature_problem(feat.shape, self.in_channels, 'GCNClsHead',
                                  pooled_ok=True)
        if problem:
            raise ValueError(problem)
        return POOLINGS[self.pool](MaskedFeature(feat, mask))

    def forward(self, feats: Sequence[GCNFeature]) -> Tensor:
        """Logits (B, N) = dropout(pooled) (B, C) @ classifiers^T."""
        classifiers = _last_gcn_feature(feats).classifiers
        if tuple(classifiers.shape) != (self.num_classes, self.in_channels):
            raise ValueError(
                f'GCNClsHead ({self.num_classes} classes, {self.in_channels}'
                f' channels) got label classifiers of shape '
                f'{tuple(classifiers.shape)}: the backbone\'s num_classes '
                'and last GCN width must match the head\'s')
        return self.dropout(self.pre_logits(feats)) @ classifiers.t()

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, in_channels='
                f'{self.in_channels}, pool={self.pool!r}')
