"""RoI features of the patches: torchvision's public ``MultiScaleRoIAlign``
on the pyramid, several groups of boxes in one call."""
from collections import OrderedDict
from typing import List, Optional, Sequence

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor, nn
from torchvision.ops import MultiScaleRoIAlign

from ..utils.patch_types import ImagePyramid


def split_groups(feats: Tensor,
                 groups: Sequence[List[Tensor]]) -> List[Tensor]:
    """Undo the per-image concatenation of :meth:`PatchRoIExtractor.forward`.

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


@MODELS.register_module()
class PatchRoIExtractor(BaseModule):
    """Pooled RoI features of patches (mmdet's RoI extractor).

    Every box is pooled from the level its size maps to (FPN eq. 1:
    ``floor(canonical_level + log2(sqrt(area) / canonical_scale))``) by
    torchvision's ``MultiScaleRoIAlign``; object and context patches go in
    one call.

    With ``out_channels`` a 1x1 conv (no activation), shared by the levels,
    first maps the pyramid to ``out_channels``: RoIAlign is linear in the
    features, so this equals the conv applied to every pooled RoI (a
    factorised first MLP layer), at the cost of one conv per map instead of
    one per patch, and it shrinks RoIAlign and the first MLP layer by
    ``in_channels / out_channels``.

    Args:
        in_channels (int): Channels of the pyramid levels.
        num_levels (int): Pyramid levels.
        roi_size (int): Side of the pooled RoI features.
        sampling_ratio (int): RoIAlign samples per bin side.
        canonical_scale (int): Box side pooled from ``canonical_level``.
        canonical_level (int): Level ``k0`` of FPN eq. 1 (the finest level
            is 2, as P2).
        out_channels (int, optional): Channels the RoIs are pooled with
            (None: ``in_channels``, no reduction).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 num_levels: int = 4,
                 roi_size: int = 7,
                 sampling_ratio: int = 2,
                 canonical_scale: int = 224,
                 canonical_level: int = 4,
                 out_channels: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.num_levels = num_levels
        self.pooler = MultiScaleRoIAlign(
            [str(i) for i in range(num_levels)],
            roi_size,
            sampling_ratio,
            canonical_scale=canonical_scale,
            canonical_level=canonical_level)
        self.reducer = None if out_channels is None else nn.Conv2d(
            in_channels, out_channels, 1)
        #: Size of one flattened RoI feature, C' x roi_size x roi_size.
        self.out_features = (out_channels or in_channels) * roi_size**2

    def forward(self, pyramid: ImagePyramid,
                *groups: List[Tensor]) -> List[Tensor]:
        """Pooled features (sum_i P_gi, C', roi_size, roi_size) of each
        group of per-image boxes, all groups in one RoIAlign call (C' is
        ``out_channels`` or ``in_channels``)."""
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
