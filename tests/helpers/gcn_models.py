"""Tiny models of the GCN family (ML-GCN, KSSNet) with their label state
filled at random."""
from typing import Optional, Sequence

import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

#: A ResNet-18 of stage widths 8, 16, 32, 64 (C5: 64 channels).
TINY_RESNET = dict(type='ResNet', depth=18, stem_channels=8, base_channels=8,
                   strides=(1, 2, 1, 1), out_indices=(3, ))


def gcn_model(channels: Sequence[int], stages: Sequence[str],
              num_classes: int = 5, embed_dim: int = 4, fill: bool = True,
              lateral: Optional[dict] = None, head: Optional[dict] = None,
              gcn: Optional[dict] = None):
    """``ImageClassifier``: ``LateralGCNBackbone`` (tiny ResNet, GCN
    ``embed_dim -> channels``, lateral ``stages``) + ``GCNClsHead``; built
    with seed 0, its graph in [0.2, 1] and its vectors drawn at random
    unless ``fill=False``. ML-GCN: ``stages=()``."""
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='LateralGCNBackbone', num_classes=num_classes,
                      backbone=TINY_RESNET,
                      gcn=dict(embed_dim=embed_dim, channels=channels,
                               **(gcn or {})),
                      stages=stages, lateral=lateral or {}),
        head=dict(type='GCNClsHead', num_classes=num_classes,
                  in_channels=channels[-1], **(head or {}))))
    if fill:
        gcn = model.backbone.gcn
        gcn.set_label_state('graph',
                            0.2 + 0.8 * torch.rand(num_classes, num_classes))
        gcn.set_label_state('embedding', torch.randn(num_classes, embed_dim))
    return model


def assert_same_layers_and_gradients(reference, other) -> None:
    """Two ``LabelGCN`` s over the same graph (one dense, one sparse) give
    every layer's embeddings and, through a squared-sum loss on the last
    layer, their weights' gradients alike (float tolerance: a sparse
    product sums in another order)."""
    outs = [gcn() for gcn in (reference, other)]
    for a, b in zip(*outs):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)
    for out in outs:
        (out[-1]**2).sum().backward()
    for w_ref, w_other in zip(reference.gcn_weights, other.gcn_weights):
        torch.testing.assert_close(w_other.grad, w_ref.grad, rtol=1e-4,
                                   atol=1e-5)
