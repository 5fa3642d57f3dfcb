"""Patch generator 1: object patches on the feature pyramid.

Two registered choices, both returning :class:`Proposals`:

- :class:`RPNPatchGenerator`: torchvision's region proposal network
  (anchors on every level, a shared 3x3 conv head scoring objectness and
  regressing each anchor, NMS, the best ``post_nms_top_n``), trained from
  ground-truth boxes with its own objectness and box losses;
- :class:`AnchorPatchGenerator`: the anchors of some levels as they are, a
  fixed multi-scale sliding window that needs no box to train (the weakly
  supervised mode).

Patch generator 2 (context patches) is :func:`~.box_ops.expand_boxes`.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor, nn
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead
from torchvision.ops import clip_boxes_to_image, remove_small_boxes

from .types import GroundTruth, ImagePyramid, Proposals


def _image_list(pyramid: ImagePyramid) -> ImageList:
    """torchvision's ``ImageList`` for the anchors of ``pyramid``.

    Anchor generation reads only the input size from the image tensor, so
    an empty ``(B, 0, H, W)`` tensor stands for the images.
    """
    first = pyramid.maps[0]
    images = first.new_empty(first.shape[0], 0, *pyramid.batch_shape)
    return ImageList(images, [tuple(s) for s in pyramid.image_sizes])


def _anchor_generator(sizes: Sequence[Sequence[int]],
                      aspect_ratios: Sequence[float]) -> AnchorGenerator:
    """One ``(sizes, aspect_ratios)`` pair per pyramid level."""
    sizes = tuple(tuple(s) for s in sizes)
    return AnchorGenerator(sizes, (tuple(aspect_ratios), ) * len(sizes))


class NarrowRPNHead(nn.Module):
    """An RPN head whose 3x3 convs are ``channels`` wide.

    torchvision's ``RPNHead`` keeps the pyramid's width in its 3x3 conv,
    which on the finest level costs as much as the FPN's own 3x3 conv
    there; this head maps ``in_channels`` to ``channels`` in the first conv
    (then ``conv_depth - 1`` more at that width, each with a ReLU), and
    scores and regresses with 1x1 convs as torchvision's. Weights drawn as
    torchvision's: N(0, 0.01), zero biases.

    Args:
        in_channels (int): Channels of the pyramid levels.
        num_anchors (int): Anchors per position.
        channels (int): Width of the 3x3 convs.
        conv_depth (int): Number of 3x3 convs.
    """

    def __init__(self, in_channels: int, num_anchors: int, channels: int,
                 conv_depth: int = 1):
        super().__init__()
        layers = []
        for i in range(conv_depth):
            layers += [nn.Conv2d(in_channels if i == 0 else channels,
                                 channels, 3, padding=1),
                       nn.ReLU(inplace=True)]
        self.conv = nn.Sequential(*layers)
        self.cls_logits = nn.Conv2d(channels, num_anchors, 1)
        self.bbox_pred = nn.Conv2d(channels, 4 * num_anchors, 1)
        for layer in self.modules():
            if isinstance(layer, nn.Conv2d):
                nn.init.normal_(layer.weight, std=0.01)
                nn.init.zeros_(layer.bias)

    def forward(self, maps: List[Tensor]) -> Tuple[List[Tensor],
                                                   List[Tensor]]:
        """Per level: objectness (B, A, H, W) and offsets (B, 4A, H, W)."""
        feats = [self.conv(m) for m in maps]
        return ([self.cls_logits(f) for f in feats],
                [self.bbox_pred(f) for f in feats])


@MODELS.register_module()
class RPNPatchGenerator(BaseModule):
    """Object patches from a region proposal network (Faster R-CNN's RPN).

    Args:
        in_channels (int): Channels of the pyramid levels.
        anchor_sizes (Sequence[Sequence[int]]): Anchor side lengths (pixels
            of the input) for each level, fine to coarse; every level needs
            the same number of sizes (the head is shared).
        aspect_ratios (Sequence[float]): Height / width ratios of the
            anchors, the same on every level.
        fg_iou (float): Anchors with IoU >= ``fg_iou`` with a box are
            positives (and each box's best anchors).
        bg_iou (float): Anchors with IoU < ``bg_iou`` with every box are
            negatives.
        num_samples (int): Anchors per image in the RPN losses.
        positive_fraction (float): Largest share of positives among them.
        pre_nms_top_n (dict): Best anchors per level before NMS,
            ``dict(training=..., testing=...)``.
        post_nms_top_n (dict): Proposals per image after NMS,
            ``dict(training=..., testing=...)``.
        nms_iou (float): NMS threshold.
        conv_depth (int): 3x3 convs in the head.
        head (dict, optional): Cheaper heads. ``channels``: width of the
            3x3 convs (:class:`NarrowRPNHead`; None, the default:
            ``in_channels``, torchvision's ``RPNHead``). ``levels``: the
            pyramid levels (0 = finest) that carry anchors and run the
            head, one per entry of ``anchor_sizes`` (None: all of them;
            leaving out the finest level saves most of the head's cost).
        init_cfg (dict, optional): Initialisation config (torchvision's head
            already draws N(0, 0.01) weights).
    """

    needs_boxes = True

    def __init__(self,
                 in_channels: int,
                 anchor_sizes: Sequence[Sequence[int]] = ((32, ), (64, ),
                                                          (128, ), (256, )),
                 aspect_ratios: Sequence[float] = (0.5, 1.0, 2.0),
                 fg_iou: float = 0.7,
                 bg_iou: float = 0.3,
                 num_samples: int = 256,
                 positive_fraction: float = 0.5,
                 pre_nms_top_n: Dict[str, int] = dict(training=2000,
                                                      testing=1000),
                 post_nms_top_n: Dict[str, int] = dict(training=512,
                                                       testing=300),
                 nms_iou: float = 0.7,
                 conv_depth: int = 1,
                 head: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if len({len(s) for s in anchor_sizes}) != 1:
            raise ValueError('every level needs the same number of anchor '
                             f'sizes (a shared head), got {anchor_sizes}')
        head = dict(head or {})
        unknown = set(head) - {'channels', 'levels'}
        if unknown:
            raise ValueError(f'RPNPatchGenerator head takes channels and '
                             f'levels, got {sorted(unknown)}')
        levels = head.get('levels')
        self.levels = None if levels is None else tuple(levels)
        if self.levels is not None and len(self.levels) != len(anchor_sizes):
            raise ValueError(f'head levels {self.levels} and anchor_sizes '
                             f'{anchor_sizes} must have the same length')
        anchors = _anchor_generator(anchor_sizes, aspect_ratios)
        num_anchors = anchors.num_anchors_per_location()[0]
        self.rpn = RegionProposalNetwork(
            anchors,
            RPNHead(in_channels, num_anchors, conv_depth=conv_depth)
            if head.get('channels') is None else NarrowRPNHead(
                in_channels, num_anchors, head['channels'], conv_depth),
            fg_iou_thresh=fg_iou,
            bg_iou_thresh=bg_iou,
            batch_size_per_image=num_samples,
            positive_fraction=positive_fraction,
            pre_nms_top_n=dict(pre_nms_top_n),
            post_nms_top_n=dict(post_nms_top_n),
            nms_thresh=nms_iou)

    def forward(self,
                pyramid: ImagePyramid,
                gts: Optional[List[GroundTruth]] = None) -> Proposals:
        """Proposals per image; with ``gts`` in training, also the RPN
        losses (``loss_objectness``, ``loss_rpn_box_reg``)."""
        if self.training and gts is None:
            raise ValueError(
                'RPNPatchGenerator learns from ground-truth boxes: training '
                'needs them (use AnchorPatchGenerator without boxes)')
        levels = self.levels or range(len(pyramid.maps))
        if max(levels) >= len(pyramid.maps):
            raise ValueError(f'head levels {tuple(levels)} exceed the '
                             f'{len(pyramid.maps)} pyramid levels')
        maps = OrderedDict((str(i), pyramid.maps[i]) for i in levels)
        targets = None if gts is None else [dict(boxes=g.boxes) for g in gts]
        boxes, losses = self.rpn(_image_list(pyramid), maps, targets)
        return Proposals([b.detach() for b in boxes], losses)


@MODELS.register_module()
class AnchorPatchGenerator(BaseModule):
    """Object patches without learning: the anchors of chosen levels.

    A multi-scale sliding window (every ``aspect_ratio`` x ``size`` box
    centred on every position of each chosen level), clipped to the image,
    boxes smaller than ``min_size`` dropped. It has no parameters and needs
    no boxes: the weakly supervised mode, where the patch classifier and the
    label predictors learn from image-level labels alone through the
    image-level score.

    Args:
        anchor_sizes (Sequence[Sequence[int]]): Sizes per chosen level.
        aspect_ratios (Sequence[float]): Height / width ratios.
        levels (Sequence[int]): Pyramid levels (0 = finest) that carry
            anchors, one per entry of ``anchor_sizes``. Coarse levels keep
            the number of patches small.
        min_size (float): Smallest side kept after clipping, pixels.
    """

    needs_boxes = False

    def __init__(self,
                 anchor_sizes: Sequence[Sequence[int]] = ((128, ), (256, )),
                 aspect_ratios: Sequence[float] = (0.5, 1.0, 2.0),
                 levels: Sequence[int] = (2, 3),
                 min_size: float = 1.0):
        super().__init__()
        if len(levels) != len(anchor_sizes):
            raise ValueError(f'levels {levels} and anchor_sizes '
                             f'{anchor_sizes} must have the same length')
        self.levels = tuple(levels)
        self.anchors = _anchor_generator(anchor_sizes, aspect_ratios)
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
        for anchors, size in zip(self.anchors(_image_list(pyramid), maps),
                                 pyramid.image_sizes):
            anchors = clip_boxes_to_image(anchors, tuple(size))
            boxes.append(anchors[remove_small_boxes(anchors, self.min_size)])
        return Proposals(boxes, {})

