"""Patch features and the four patch processors."""
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn
from torchvision.models.detection.faster_rcnn import TwoMLPHead
from torchvision.ops import MultiScaleRoIAlign

from .types import ImagePyramid, PatchOutputs, Patches


def pooled_image_features(pyramid: ImagePyramid) -> Tensor:
    """Each image's pyramid averaged over its own area, levels concatenated.

    The mean of level ``l`` (stride ``s``) over the first
    ``ceil(h / s) x ceil(w / s)`` positions, for an image of ``(h, w)``
    inside the padded batch (the padding is left out).

    Args:
        pyramid (ImagePyramid): Levels (B, C, H_l, W_l), fine to coarse.

    Returns:
        Tensor: (B, L * C) features, level by level.
    """
    rows = []
    for i, (h, w) in enumerate(pyramid.image_sizes):
        levels = []
        for feat in pyramid.maps:
            stride = pyramid.batch_shape[0] // feat.shape[-2]
            levels.append(feat[i, :, :-(-h // stride), :-(-w // stride)]
                          .mean(dim=(1, 2)))
        rows.append(torch.cat(levels))
    return torch.stack(rows)


def split_groups(feats: Tensor,
                 groups: Sequence[List[Tensor]]) -> List[Tensor]:
    """Undo the per-image concatenation of :meth:`PatchBranches.pool`.

    Args:
        feats (Tensor): Rows of image 0's boxes of every group (group by
            group), then image 1's, ...: (sum of all boxes, ...).
        groups (Sequence[list]): Per group, per image (P_gi, 4) boxes.

    Returns:
        list: Per group, its rows in image order, (sum_i P_gi, ...).
    """
    sizes = [len(group[i]) for i in range(len(groups[0])) for group in groups]
    parts = feats.split(sizes)
    return [torch.cat(parts[g::len(groups)]) for g in range(len(groups))]


class PatchBranches(BaseModule):
    """RoI features of object and context patches, a head per branch, and
    the four processors.

    Both kinds of patch are pooled from the pyramid by torchvision's
    ``MultiScaleRoIAlign`` (each box from the level its size maps to, FPN
    eq. 1: ``floor(canonical_level + log2(sqrt(area) / canonical_scale))``),
    object and context patches in one call, then each branch has its own
    two-layer MLP (torchvision's ``TwoMLPHead``). On the object branch sit
    the location regressor (4 class-agnostic offsets), the patch classifier
    (1 objectness logit) and the object label predictor (N logits); on the
    context branch the context label predictor (N logits).

    With ``roi_channels`` a 1x1 conv (no activation), shared by the levels
    and both branches, first maps the pyramid to ``roi_channels``: RoIAlign
    is linear in the features, so this equals the conv applied to every
    pooled RoI (a factorised first MLP layer), at the cost of one conv per
    map instead of one per patch, and it shrinks RoIAlign and the first MLP
    layer by ``in_channels / roi_channels``.

    Args:
        num_classes (int): Number of labels N.
        in_channels (int): Channels of the pyramid levels.
        num_levels (int): Pyramid levels.
        roi_size (int): Side of the pooled RoI features.
        sampling_ratio (int): RoIAlign samples per bin side.
        canonical_scale (int): Box side pooled from ``canonical_level``.
        canonical_level (int): Level ``k0`` of FPN eq. 1 (the finest level
            is 2, as P2).
        hidden_channels (int): Width of each branch's MLP.
        roi_channels (int, optional): Channels the RoIs are pooled with
            (None: ``in_channels``, no reduction).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_levels: int = 4,
                 roi_size: int = 7,
                 sampling_ratio: int = 2,
                 canonical_scale: int = 224,
                 canonical_level: int = 4,
                 hidden_channels: int = 1024,
                 roi_channels: Optional[int] = None):
        super().__init__()
        self.pooler = MultiScaleRoIAlign(
            [str(i) for i in range(num_levels)],
            roi_size,
            sampling_ratio,
            canonical_scale=canonical_scale,
            canonical_level=canonical_level)
        self.reducer = None if roi_channels is None else nn.Conv2d(
            in_channels, roi_channels, 1)
        pooled = (roi_channels or in_channels) * roi_size * roi_size
        self.object_head = TwoMLPHead(pooled, hidden_channels)
        self.context_head = TwoMLPHead(pooled, hidden_channels)
        self.location_regressor = nn.Linear(hidden_channels, 4)
        self.patch_classifier = nn.Linear(hidden_channels, 1)
        self.object_label_predictor = nn.Linear(hidden_channels, num_classes)
        self.context_label_predictor = nn.Linear(hidden_channels, num_classes)
        # Faster R-CNN's init of its box predictors.
        for layer, std in ((self.location_regressor, 0.001),
                           (self.patch_classifier, 0.01),
                           (self.object_label_predictor, 0.01),
                           (self.context_label_predictor, 0.01)):
            nn.init.normal_(layer.weight, std=std)
            nn.init.zeros_(layer.bias)

    def pool(self, pyramid: ImagePyramid,
             *groups: List[Tensor]) -> List[Tensor]:
        """Pooled features (sum_i P_gi, C', roi_size, roi_size) of each
        group of per-image boxes, all groups in one RoIAlign call (C' is
        ``roi_channels`` or ``in_channels``)."""
        names = self.pooler.featmap_names
        # torchvision keeps the level scales of its first call; derive them
        # again from this batch (exact for the strides that
        # SpatialContextHead checks with pyramid_strides).
        self.pooler.scales = None
        maps = pyramid.maps if self.reducer is None else [
            self.reducer(m) for m in pyramid.maps
        ]
        boxes = [
            torch.cat([group[i].float() for group in groups])
            for i in range(len(groups[0]))
        ]
        feats = self.pooler(OrderedDict(zip(names, maps)), boxes,
                            [tuple(pyramid.batch_shape)] * len(boxes))
        return split_groups(feats, groups)

    def roi_features(self, pyramid: ImagePyramid,
                     boxes: List[Tensor]) -> Tensor:
        """Pooled features (sum P_i, C', roi_size, roi_size) of ``boxes``."""
        return self.pool(pyramid, boxes)[0]

    def locate(self, pyramid: ImagePyramid,
               boxes: List[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        """The object branch on ``boxes``: its features (P, hidden), the
        location regressor's offsets (P, 4) and the patch classifier's
        logits (P,)."""
        return self.object_outputs(
            self.object_head(self.roi_features(pyramid, boxes)))

    def object_outputs(self, feats: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """``feats`` (P, hidden), offsets (P, 4), objectness logits (P,)."""
        return (feats, self.location_regressor(feats),
                self.patch_classifier(feats).squeeze(1))

    def label_logits(
            self,
            pyramid: ImagePyramid,
            patches: Patches,
            object_feats: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """The two label predictors: object-branch logits (P, N) on
        ``patches.object_boxes`` (``object_feats``, their features from
        :meth:`locate`, when already pooled) and context-branch logits
        (P, N) on ``patches.context_boxes``."""
        if object_feats is None:
            rois, ctx_rois = self.pool(pyramid, patches.object_boxes,
                                       patches.context_boxes)
            object_feats = self.object_head(rois)
        else:
            ctx_rois = self.roi_features(pyramid, patches.context_boxes)
        return (self.object_label_predictor(object_feats),
                self.context_label_predictor(self.context_head(ctx_rois)))

    def forward(self, pyramid: ImagePyramid, patches: Patches) -> PatchOutputs:
        """The four processors' outputs for every patch of the batch, all
        from the features of ``patches`` (both kinds pooled in one call)."""
        rois, ctx_rois = self.pool(pyramid, patches.object_boxes,
                                   patches.context_boxes)
        feats, deltas, objectness = self.object_outputs(self.object_head(rois))
        return PatchOutputs(
            deltas, objectness, self.object_label_predictor(feats),
            self.context_label_predictor(self.context_head(ctx_rois)))
