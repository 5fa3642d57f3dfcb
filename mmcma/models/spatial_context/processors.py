"""Patch features and the four patch processors."""
from collections import OrderedDict
from typing import List, Optional, Tuple

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


class PatchBranches(BaseModule):
    """RoI features of object and context patches, a head per branch, and
    the four processors.

    Both kinds of patch are pooled from the pyramid by torchvision's
    ``MultiScaleRoIAlign`` (each box from the level its size maps to, FPN
    eq. 1: ``floor(canonical_level + log2(sqrt(area) / canonical_scale))``),
    then each branch has its own two-layer MLP (torchvision's
    ``TwoMLPHead``). On the object branch sit the location regressor (4
    class-agnostic offsets), the patch classifier (1 objectness logit) and
    the object label predictor (N logits); on the context branch the
    context label predictor (N logits).

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
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 num_levels: int = 4,
                 roi_size: int = 7,
                 sampling_ratio: int = 2,
                 canonical_scale: int = 224,
                 canonical_level: int = 4,
                 hidden_channels: int = 1024):
        super().__init__()
        self.pooler = MultiScaleRoIAlign(
            [str(i) for i in range(num_levels)],
            roi_size,
            sampling_ratio,
            canonical_scale=canonical_scale,
            canonical_level=canonical_level)
        pooled = in_channels * roi_size * roi_size
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

    def roi_features(self, pyramid: ImagePyramid,
                     boxes: List[Tensor]) -> Tensor:
        """Pooled features (sum P_i, C, roi_size, roi_size) of ``boxes``."""
        names = self.pooler.featmap_names
        # torchvision keeps the level scales of its first call; derive them
        # again from this batch (exact for the strides that
        # SpatialContextHead checks with pyramid_strides).
        self.pooler.scales = None
        maps = OrderedDict(zip(names, pyramid.maps))
        return self.pooler(maps, [b.float() for b in boxes],
                           [tuple(pyramid.batch_shape)] * len(boxes))

    def locate(self, pyramid: ImagePyramid,
               boxes: List[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        """The object branch on ``boxes``: its features (P, hidden), the
        location regressor's offsets (P, 4) and the patch classifier's
        logits (P,)."""
        feats = self.object_head(self.roi_features(pyramid, boxes))
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
            object_feats = self.object_head(
                self.roi_features(pyramid, patches.object_boxes))
        ctx = self.context_head(
            self.roi_features(pyramid, patches.context_boxes))
        return (self.object_label_predictor(object_feats),
                self.context_label_predictor(ctx))

    def forward(self, pyramid: ImagePyramid, patches: Patches) -> PatchOutputs:
        """The four processors' outputs for every patch of the batch, all
        from the features of ``patches``."""
        feats, deltas, objectness = self.locate(pyramid, patches.object_boxes)
        return PatchOutputs(deltas, objectness,
                            *self.label_logits(pyramid, patches, feats))
