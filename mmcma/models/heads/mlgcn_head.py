"""ML-GCN head (Chen et al., CVPR 2019): label classifiers from a GCN.

A 2-layer GCN maps label word vectors E (N, D_in) over the label graph to N
classifiers W (N, C); an image's scores are its globally max-pooled feature
x (B, C) times W^T. The math is in plain functions shared with KSSNet
(``mmcma/models/utils/gcn.py``), checked against slow references in
``tests/test_mlgcn_head.py``; :class:`MLGCNHead` holds the weights and the
mmpretrain plumbing.

What ML-GCN's released code does, and this head with its defaults:

- graph: ``build_label_graph(kind='mlgcn', variant='released')`` (``gen_A``:
  binarised P(j | i) >= t, each column re-weighted to sum to 0.25, plus the
  identity); the paper's re-weighting is ``variant='paper'`` (``p``);
- normalisation (``gen_adj``): ``A_hat = D^-1/2 A^T D^-1/2`` with ``D`` the
  row sums of ``A`` (:func:`mmcma.labels.adjacency.released_normalization`);
  the graph already holds its self-loops, none are added. A graph that is
  already normalised (KSSNet's KS graph) is used as it is: the label state
  records which normalisation a graph carries;
- GCN (``GraphConvolution``): ``H' = A_hat H W``, no bias, LeakyReLU(0.2)
  between layers and none after the last; weights ~ U(-1/sqrt(out),
  1/sqrt(out));
- image feature: global max pooling of the last backbone map;
- loss: ``MultiLabelSoftMarginLoss``, the mean BCE with logits over batch
  and labels (:class:`MeanOverLabelsLoss`).
"""
from typing import Dict, List, Optional, Sequence

from mmpretrain.models.heads import MultiLabelClsHead
from mmpretrain.registry import MODELS
from torch import Tensor

from ..label_state import LabelStateMixin
from ..utils import (MaskedFeature, as_masked_feature, check_normalize,
                     feature_problem, gcn_propagate, gcn_weights,
                     global_max_pool, label_graph_adjacency)

__all__ = [
    'MLGCNHead', 'MeanOverLabelsLoss', 'gcn_propagate', 'global_max_pool'
]


class MeanOverLabelsLoss:
    """Mixin for a :class:`MultiLabelClsHead`: the loss averaged over batch
    *and* labels, as ML-GCN's ``MultiLabelSoftMarginLoss``.

    :class:`MultiLabelClsHead` passes ``avg_factor=B``: the loss summed over
    labels, averaged over the batch. ML-GCN's loss also averages over the N
    labels, which sets the scale its learning rate (0.1) and gradient
    clipping (10) were tuned for; so divide by N.
    """

    def _get_loss(self, cls_score: Tensor, data_samples: List,
                  **kwargs) -> Dict[str, Tensor]:
        losses = super()._get_loss(cls_score, data_samples, **kwargs)
        losses['loss'] = losses['loss'] / cls_score.size(-1)
        return losses


@MODELS.register_module()
class MLGCNHead(MeanOverLabelsLoss, MultiLabelClsHead, LabelStateMixin):
    """ML-GCN: label-word vectors -> GCN -> one classifier per label.

    Declares two label-state arrays (:class:`~mmcma.models.LabelStateMixin`),
    filled by ``LabelStateHook`` or :func:`mmcma.fill_label_state`: the
    label vectors ``'embedding'`` (N, ``embed_dim``), e.g.
    ``dict(type='glove')``, and the label graph ``'graph'`` (N, N), e.g.
    ``dict(kind='mlgcn', variant='released', t=0.4)``. Any backbone: the
    head max-pools its last output, a map (B, C, H, W), a sequence
    (B, C, T), a :class:`~mmcma.models.utils.MaskedFeature` or an already
    pooled (B, C) feature.

    Args:
        num_classes (int): Number of labels N.
        in_channels (int): Channels C of the image feature; the GCN's last
            layer outputs C.
        embed_dim (int): Size D_in of the label vectors. Defaults to 300
            (GloVe 840B, as in the paper).
        hidden_channels (Sequence[int]): Hidden GCN sizes. Defaults to
            ``(1024, )``: D_in -> 1024 -> C as released.
        negative_slope (float): LeakyReLU slope between GCN layers.
            Defaults to 0.2.
        normalize (str, optional): How the GCN normalises the graph
            (:data:`mmcma.labels.adjacency.NORMALIZATIONS`): None (default)
            uses a normalised graph as it is and gives a raw one ML-GCN's
            ``'released'`` ``gen_adj``; a value that contradicts the
            normalisation the graph carries is an error.
        loss (dict): Loss config; it must divide its summed loss by
            ``avg_factor`` (mmpretrain's convention). Defaults to
            ``CrossEntropyLoss(use_sigmoid=True)``.
        thr (float, optional): Score threshold of positive predictions.
        topk (int, optional): Predict the k best labels as positive. If
            neither is set, ``thr=0.5``.
        init_cfg (dict, optional): Initialisation config. Defaults to None
            (the released uniform init of the GCN weights).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 embed_dim: int = 300,
                 hidden_channels: Sequence[int] = (1024, ),
                 negative_slope: float = 0.2,
                 normalize: Optional[str] = None,
                 loss: Dict = dict(type='CrossEntropyLoss', use_sigmoid=True),
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(loss=loss, thr=thr, topk=topk, init_cfg=init_cfg)
        check_normalize(normalize, 'MLGCNHead')
        if num_classes <= 0:
            raise ValueError(f'num_classes must be positive, got '
                             f'{num_classes}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.negative_slope = negative_slope
        self.normalize = normalize
        self.gcn_weights = gcn_weights(
            [embed_dim, *hidden_channels, in_channels])
        self.declare_label_state('embedding', (num_classes, embed_dim))
        self.declare_label_state('graph', (num_classes, num_classes))

    def adjacency(self) -> Tensor:
        """The graph the GCN propagates over, (N, N)."""
        return label_graph_adjacency(self, self.normalize)

    def label_classifiers(self) -> Tensor:
        """The GCN output W, (N, C): one classifier per label."""
        return gcn_propagate(self.label_state('embedding'), self.adjacency(),
                             list(self.gcn_weights), self.negative_slope)

    def pre_logits(self, feats: Sequence[Tensor]) -> Tensor:
        """Max-pooled image features (B, C) of the last backbone output."""
        if isinstance(feats, (Tensor, MaskedFeature)):
            feats = (feats, )
        feature = as_masked_feature(feats[-1], 'MLGCNHead')
        problem = feature_problem(feature.feat.shape, self.in_channels,
                                  'MLGCNHead', pooled_ok=True)
        if problem:
            raise ValueError(problem)
        return global_max_pool(feature)

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        """Logits (B, N) = pooled features (B, C) @ W^T."""
        return self.pre_logits(feats) @ self.label_classifiers().t()

    def extra_repr(self) -> str:
        sizes = [w.size(0) for w in self.gcn_weights] + [self.in_channels]
        return (f'num_classes={self.num_classes}, gcn={sizes}, '
                f'normalize={self.normalize!r}')
