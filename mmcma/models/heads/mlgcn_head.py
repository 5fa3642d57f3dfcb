"""ML-GCN head (Chen et al., CVPR 2019): label classifiers from a GCN.

A 2-layer GCN maps label word vectors E (N, D_in) over the label graph to N
classifiers W (N, C); an image's scores are its globally max-pooled feature
x (B, C) times W^T. The math is in plain functions, checked against slow
references in ``tests/test_mlgcn_head.py``; :class:`MLGCNHead` holds the
weights and the mmpretrain plumbing.

What ML-GCN's released code does, and this head with its defaults:

- graph: ``build_label_graph(kind='mlgcn', variant='released')`` (``gen_A``:
  binarised P(j | i) >= t, each column re-weighted to sum to 0.25, plus the
  identity); the paper's re-weighting is ``variant='paper'`` (``p``);
- normalisation (``gen_adj``): ``A_hat = D^-1/2 A^T D^-1/2`` with ``D`` the
  row sums of ``A`` (:func:`mlgcn_adjacency`); the graph already holds its
  self-loops, none are added;
- GCN (``GraphConvolution``): ``H' = A_hat H W``, no bias, LeakyReLU(0.2)
  between layers and none after the last; weights ~ U(-1/sqrt(out),
  1/sqrt(out));
- image feature: global max pooling of the last backbone map;
- loss: ``MultiLabelSoftMarginLoss``, the mean BCE with logits over batch
  and labels (see :meth:`MLGCNHead._get_loss`).
"""
import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmpretrain.models.heads import MultiLabelClsHead
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ..label_state import LabelStateMixin
from ..utils import MaskedFeature, as_masked_feature, feature_problem

#: How :class:`MLGCNHead` normalises the graph: ML-GCN's ``gen_adj``, or
#: not at all (e.g. the paper variant's rows already sum to 1).
NORMALIZATIONS = ('released', 'none')


def mlgcn_adjacency(graph: Tensor) -> Tensor:
    """ML-GCN's normalised adjacency ``D^-1/2 A^T D^-1/2`` (``gen_adj``).

    ``D = diag(sum_j A_ij)``: the row sums of ``A``, applied on both sides
    of the *transposed* graph, as the released code does. A row summing to
    0 (possible only for a graph without self-loops) gets 0 instead of
    ``inf``: that label receives nothing.

    Args:
        graph (Tensor): ``A``, (N, N), non-negative.

    Returns:
        Tensor: ``A_hat``, (N, N); ``A_hat_ij = A_ji / sqrt(d_i d_j)``.
    """
    degree = graph.sum(dim=1)
    inv_sqrt = torch.where(degree > 0, degree.clamp_min(1e-30).rsqrt(),
                           torch.zeros_like(degree))
    return inv_sqrt[:, None] * graph.t() * inv_sqrt[None, :]


def gcn_propagate(x: Tensor,
                  adjacency: Tensor,
                  weights: Sequence[Tensor],
                  negative_slope: float = 0.2) -> Tensor:
    """Stacked graph convolutions ``H_{l+1} = A_hat H_l W_l``.

    LeakyReLU(``negative_slope``) follows every layer but the last.

    Args:
        x (Tensor): Node features ``H_0``, (N, D_0).
        adjacency (Tensor): ``A_hat``, (N, N).
        weights (Sequence[Tensor]): ``W_l``, (D_l, D_{l+1}) each.
        negative_slope (float): LeakyReLU slope. Defaults to 0.2.

    Returns:
        Tensor: (N, D_L).
    """
    for i, weight in enumerate(weights):
        x = adjacency @ (x @ weight)
        if i < len(weights) - 1:
            x = F.leaky_relu(x, negative_slope)
    return x


def global_max_pool(feature: MaskedFeature) -> Tensor:
    """Max over positions: (B, C, *positions) -> (B, C); (B, C) unchanged.

    With a mask only valid positions count; a sample without any gets 0.
    """
    feat, mask = feature
    if feat.dim() == 2:
        return feat
    if mask is not None:
        mask = mask.bool().unsqueeze(1)
        feat = feat.masked_fill(~mask, float('-inf'))
    pooled = feat.flatten(2).amax(dim=2)
    if mask is not None:
        pooled = pooled.masked_fill(~mask.flatten(2).any(dim=2), 0)
    return pooled


@MODELS.register_module()
class MLGCNHead(MultiLabelClsHead, LabelStateMixin):
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
        normalize (str): ``'released'`` (:func:`mlgcn_adjacency`) or
            ``'none'`` (use the graph as given). Defaults to ``'released'``.
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
                 normalize: str = 'released',
                 loss: Dict = dict(type='CrossEntropyLoss', use_sigmoid=True),
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(loss=loss, thr=thr, topk=topk, init_cfg=init_cfg)
        if normalize not in NORMALIZATIONS:
            raise ValueError(f'normalize must be one of {NORMALIZATIONS}, '
                             f'got {normalize!r}')
        sizes = [embed_dim, *hidden_channels, in_channels]
        if num_classes <= 0 or any(int(s) <= 0 for s in sizes):
            raise ValueError('num_classes and all GCN sizes must be positive,'
                             f' got num_classes={num_classes}, sizes={sizes}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.negative_slope = negative_slope
        self.normalize = normalize
        self.gcn_weights = nn.ParameterList(
            nn.Parameter(torch.empty(d_in, d_out))
            for d_in, d_out in zip(sizes[:-1], sizes[1:]))
        self.reset_gcn_parameters()
        self.declare_label_state('embedding', (num_classes, embed_dim))
        self.declare_label_state('graph', (num_classes, num_classes))

    def reset_gcn_parameters(self) -> None:
        """ML-GCN's init: each W ~ U(-1/sqrt(out), 1/sqrt(out))."""
        for weight in self.gcn_weights:
            bound = 1.0 / math.sqrt(weight.size(1))
            nn.init.uniform_(weight, -bound, bound)

    def adjacency(self) -> Tensor:
        """The graph the GCN propagates over, (N, N)."""
        graph = self.label_state('graph')
        return mlgcn_adjacency(graph) if self.normalize == 'released' \
            else graph

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

    def _get_loss(self, cls_score: Tensor, data_samples: List,
                  **kwargs) -> Dict[str, Tensor]:
        """The loss averaged over batch *and* labels.

        :class:`MultiLabelClsHead` passes ``avg_factor=B``: the loss summed
        over labels, averaged over the batch. ML-GCN's ``MultiLabelSoftMarginLoss`` also averages
        over the N labels, which sets the scale its learning rate 0.1 and
        gradient clipping at 10 were tuned for; so divide by N.
        """
        losses = super()._get_loss(cls_score, data_samples, **kwargs)
        losses['loss'] = losses['loss'] / cls_score.size(-1)
        return losses

    def extra_repr(self) -> str:
        sizes = [w.size(0) for w in self.gcn_weights] + [self.in_channels]
        return (f'num_classes={self.num_classes}, gcn={sizes}, '
                f'normalize={self.normalize!r}')
