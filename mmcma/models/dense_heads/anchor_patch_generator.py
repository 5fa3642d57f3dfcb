"""Patch generator 1 without learning: the anchors of chosen levels."""
from typing import List, Optional, Sequence

from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor
from torchvision.ops import clip_boxes_to_image, remove_small_boxes

from ..utils.patch_types import GroundTruth, ImagePyramid, Proposals
from .patch_anchors import build_anchor_generator, image_list


@MODELS.register_module()
class AnchorPatchGenerator(BaseModule):
    """Object patches without learning: the anchors of chosen levels.

    A multi-scale sliding window (every aspect ratio x size box centred on
    every position of each chosen level), clipped to the image, boxes
    smaller than ``min_size`` dropped. It has no parameters and needs no
    boxes: the weakly supervised mode, where the patch classifier and the
    label predictors learn from image-level labels alone through the
    image-level score.

    Args:
        anchor_generator (dict): ``sizes`` per chosen level and
            ``aspect_ratios`` (:class:`~.patch_anchors.AnchorConfig`).
        levels (Sequence[int]): Pyramid levels (0 = finest) that carry
            anchors, one per entry of ``anchor_generator.sizes``. Coarse
            levels keep the number of patches small.
        min_size (float): Smallest side kept after clipping, pixels.
    """

    needs_boxes = False

    def __init__(self,
                 anchor_generator: dict = dict(sizes=((128, ), (256, ))),
                 levels: Sequence[int] = (2, 3),
                 min_size: float = 1.0):
        super().__init__()
        self.anchors = build_anchor_generator(anchor_generator)
        if len(levels) != len(self.anchors.sizes):
            raise ValueError(f'levels {tuple(levels)} and anchor sizes '
                             f'{self.anchors.sizes} must have the same '
                             'length')
        self.levels = tuple(levels)
        self.min_size = min_size

    def forward(self,
                pyramid: ImagePyramid,
                gts: Optional[List[GroundTruth]] = None) -> Proposals:
        """Anchors per image (ground truth, if given, is not used)."""
        if max(self.levels) >= len(pyramid.maps):
            raise ValueError(f'levels {self.levels} exceed the '
                             f'{len(pyramid.maps)} pyramid levels')
        maps = [pyramid.maps[i] for i in self.levels]
        boxes: List[Tensor] = []
        for anchors, size in zip(self.anchors(image_list(pyramid), maps),
                                 pyramid.image_sizes):
            anchors = clip_boxes_to_image(anchors, tuple(size))
            boxes.append(anchors[remove_small_boxes(anchors, self.min_size)])
        return Proposals(boxes, {})
