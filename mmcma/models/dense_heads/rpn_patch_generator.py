"""Patch generator 1 trained from boxes: a region proposal network.

torchvision's public ``RegionProposalNetwork`` (anchors on every level, a
shared 3x3 conv head scoring objectness and regressing each anchor, NMS,
the best ``post_nms_top_n``), trained from ground-truth boxes with its own
objectness and box losses. The other patch generator is
:class:`~.anchor_patch_generator.AnchorPatchGenerator`; patch generator 2
(context patches) is :class:`~..roi_heads.ContextPatchGenerator`.
"""
from collections import OrderedDict
from typing import List, NamedTuple, Optional, Sequence, Tuple

from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor, nn
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead

from ..utils.patch_types import (GroundTruth, ImagePyramid, Proposals,
                                 named_config)
from .patch_anchors import build_anchor_generator, image_list


class RPNTrainConfig(NamedTuple):
    """``train_cfg`` of :class:`RPNPatchGenerator`: anchors with IoU >=
    ``pos_iou`` with a box are positives (and each box's best anchors),
    < ``neg_iou`` with every box negatives; ``num_samples`` anchors per
    image in the RPN losses, at most ``pos_fraction`` of them positive; the
    best ``pre_nms_top_n`` anchors per level before NMS, ``post_nms_top_n``
    proposals per image after it."""
    pos_iou: float = 0.7
    neg_iou: float = 0.3
    num_samples: int = 256
    pos_fraction: float = 0.5
    pre_nms_top_n: int = 2000
    post_nms_top_n: int = 512


class RPNTestConfig(NamedTuple):
    """``test_cfg`` of :class:`RPNPatchGenerator` (as in
    :class:`RPNTrainConfig`)."""
    pre_nms_top_n: int = 1000
    post_nms_top_n: int = 300


class RPNHeadConfig(NamedTuple):
    """``head`` of :class:`RPNPatchGenerator`. ``channels``: width of the
    3x3 convs (:class:`NarrowRPNHead`; None: ``in_channels``,
    torchvision's ``RPNHead``). ``levels``: the pyramid levels (0 = finest)
    that carry anchors and run the head, one per entry of the anchor sizes
    (None: all of them; leaving out the finest level saves most of the
    head's cost). ``conv_depth``: number of 3x3 convs."""
    channels: Optional[int] = None
    levels: Optional[Sequence[int]] = None
    conv_depth: int = 1


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
        anchor_generator (dict): Anchor ``sizes`` per anchored level, fine
            to coarse (every level the same number: the head is shared),
            and ``aspect_ratios`` (:class:`~.patch_anchors.AnchorConfig`).
        head (dict, optional): :class:`RPNHeadConfig` (width, levels,
            depth of the head).
        train_cfg (dict, optional): :class:`RPNTrainConfig` (anchor
            matching, sampling, proposals kept in training).
        test_cfg (dict, optional): :class:`RPNTestConfig` (proposals kept
            at test time).
        nms_iou (float): NMS threshold.
        init_cfg (dict, optional): Initialisation config (torchvision's head
            already draws N(0, 0.01) weights).
    """

    needs_boxes = True

    def __init__(self,
                 in_channels: int,
                 anchor_generator: Optional[dict] = None,
                 head: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 nms_iou: float = 0.7,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        head = named_config(RPNHeadConfig, head, 'RPNPatchGenerator head')
        train = named_config(RPNTrainConfig, train_cfg,
                             'RPNPatchGenerator train_cfg')
        test = named_config(RPNTestConfig, test_cfg,
                            'RPNPatchGenerator test_cfg')
        anchors = build_anchor_generator(anchor_generator)
        if len({len(s) for s in anchors.sizes}) != 1:
            raise ValueError('every level needs the same number of anchor '
                             f'sizes (a shared head), got {anchors.sizes}')
        self.levels = None if head.levels is None else tuple(head.levels)
        if self.levels is not None and len(self.levels) != len(
                anchors.sizes):
            raise ValueError(f'head levels {self.levels} and anchor sizes '
                             f'{anchors.sizes} must have the same length')
        num_anchors = anchors.num_anchors_per_location()[0]
        self.rpn = RegionProposalNetwork(
            anchors,
            RPNHead(in_channels, num_anchors, conv_depth=head.conv_depth)
            if head.channels is None else NarrowRPNHead(
                in_channels, num_anchors, head.channels, head.conv_depth),
            fg_iou_thresh=train.pos_iou,
            bg_iou_thresh=train.neg_iou,
            batch_size_per_image=train.num_samples,
            positive_fraction=train.pos_fraction,
            pre_nms_top_n=dict(training=train.pre_nms_top_n,
                               testing=test.pre_nms_top_n),
            post_nms_top_n=dict(training=train.post_nms_top_n,
                                testing=test.post_nms_top_n),
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
        boxes, losses = self.rpn(image_list(pyramid), maps, targets)
        return Proposals([b.detach() for b in boxes], losses)
