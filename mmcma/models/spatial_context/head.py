"""The two-branch spatial-context head: patches, processors, image scores.

Data flow (``docs/spatial_context.md``)::

    pyramid --patch generator 1--> object patches (proposals)
            --patch generator 2--> context patches (expanded, clipped)
            --RoIAlign + MLP per branch--> four processors
            --objectness x label probability, max over patches--> (B, N)
              logits
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmpretrain.models.heads import MultiLabelClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from ..losses.weighted_bce import sized_loss_config
from .aggregation import (COMBINE, IMAGE_COMBINE, image_logits,
                          patch_log_scores, patch_scores)
from .box_ops import expand_boxes, pyramid_strides, regress_boxes, valid_gt
from .losses import (label_predictor_loss, location_loss,
                     patch_classifier_loss)
from .processors import PatchBranches, pooled_image_features
from .targets import patch_targets
from .types import (GroundTruth, ImagePyramid, LossWeights, PatchOutputs,
                    PatchPredictions, Patches)

#: torchvision's RPN loss names -> this head's.
PROPOSAL_LOSSES = {
    'loss_objectness': 'loss_proposal_objectness',
    'loss_rpn_box_reg': 'loss_proposal_box',
}

#: Where the label predictors look (``SpatialContextHead(refine=...)``):
#: at the proposals always (``'none'``), at the location regressor's boxes
#: at test time only (``'test'``), or in training too (``'cascade'``).
REFINE = ('none', 'test', 'cascade')


def _no_boxes_error(sample: DataSample, index: int) -> ValueError:
    where = sample.get('img_path', f'sample {index} of the batch')
    return ValueError(
        f'{where} has no gt_bboxes, but SpatialContextHead('
        'box_supervision=True) trains its patch generator, location '
        'regressor, patch classifier and label predictors from instance '
        'boxes: load them (CocoMultiLabel or VOCMultiLabel with '
        'with_boxes=True) and pack them with PackInputsWithBoxes, or set '
        'box_supervision=False with an AnchorPatchGenerator (weakly '
        'supervised: image-level labels only)')


@MODELS.register_module()
class SpatialContextHead(MultiLabelClsHead):
    """Object and context patches, four processors, image-level scores.

    Consumes :class:`ImagePyramid` (built by
    :class:`SpatialContextClassifier` from the neck's levels and the input
    geometry). ``forward`` returns image-level logits (B, N) pooled over the
    test-time patches (:func:`~.aggregation.image_logits`: their sigmoid is
    the pooled patch score), so the image-level loss takes logits
    (``use_sigmoid=True``) and predictions are mmpretrain's multi-label
    ones.

    Args:
        num_classes (int): Number of labels N.
        in_channels (int): Channels of every pyramid level.
        patch_generator (dict): Patch generator 1,
            :class:`RPNPatchGenerator` (its ``in_channels`` defaults to
            ``in_channels``) or :class:`AnchorPatchGenerator`.
        num_levels (int): Pyramid levels.
        roi_size, sampling_ratio, canonical_scale, canonical_level,
        hidden_channels: RoI features and branch heads
            (:class:`PatchBranches`).
        context_scale (float): Side-length factor of the context patches
            about the object patch's centre (patch generator 2).
        box_supervision (bool): Train the four processors (and an RPN)
            from instance boxes in the data samples (``gt_bboxes``,
            ``gt_bboxes_labels``). False: the weakly supervised mode, image
            labels only (needs a generator without ``needs_boxes``).
        min_box_size (float): Ground-truth boxes with a smaller side are
            ignored (e.g. cropped away).
        fg_iou (float): Patches with IoU >= ``fg_iou`` with a box are
            object patches.
        bg_iou (float): Patches with IoU < ``bg_iou`` with every box are
            background; in between they are ignored.
        num_samples (int): Patches per image in the patch losses.
        positive_fraction (float): Largest share of object patches there.
        add_gt_patches (bool): In training, add the ground-truth boxes to
            the object patches (their processors learn from exact boxes);
            they are left out of the image-level score.
        box_coder_weights (Sequence[float]): Offset weights
            ``(wx, wy, ww, wh)`` of the location regressor.
        smooth_l1_beta (float): Smooth-L1 switch point (1: the slides').
        refine (str, optional): Which boxes the label predictors classify,
            one of :data:`REFINE`. ``'none'``: the object patches (and
            their context patches). ``'test'``: in training the object
            patches, at test time the location regressor's boxes and the
            context patches expanded from them (a second RoIAlign pass,
            Faster R-CNN's "train on proposals, refine at test" applied to
            the features). ``'cascade'``: the regressed boxes in training
            too (offsets detached, label targets those of the patch they
            came from, as Cascade R-CNN's next stage). Default: ``'test'``
            with ``box_supervision``, ``'none'`` without (an untrained
            regressor has nothing to refine).
        combine (str): Branch combination, a key of
            :data:`~.aggregation.COMBINE`.
        pool_topk (int): Patches pooled per label for the image score
            (1: the maximum).
        image_branch (str, optional): Add an image-level label predictor
            (a linear layer on :func:`~.processors.pooled_image_features`)
            whose logits join the pooled patch score as
            :data:`~.aggregation.IMAGE_COMBINE` names (``'sum'``,
            ``'mean'``). None (default): the patches alone (the slides
            describe no image-level branch).
            Meant for the weakly supervised mode (docs/spatial_context.md).
        loss_weights (dict, optional): Fields of :class:`LossWeights`
            (``image``, ``location``, ``patch``, ``object_label``,
            ``context_label``, ``proposal``); missing ones are 1.
        loss (dict): Image-level loss on logits.
        thr (float, optional): Score threshold of positive predictions.
        topk (int, optional): Predict the k best labels as positive.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 patch_generator: dict = dict(type='RPNPatchGenerator'),
                 num_levels: int = 4,
                 roi_size: int = 7,
                 sampling_ratio: int = 2,
                 canonical_scale: int = 224,
                 canonical_level: int = 4,
                 hidden_channels: int = 1024,
                 context_scale: float = 2.0,
                 box_supervision: bool = True,
                 min_box_size: float = 1.0,
                 fg_iou: float = 0.5,
                 bg_iou: float = 0.5,
                 num_samples: int = 512,
                 positive_fraction: float = 0.25,
                 add_gt_patches: bool = True,
                 box_coder_weights: Sequence[float] = (10., 10., 5., 5.),
                 smooth_l1_beta: float = 1.0,
                 refine: Optional[str] = None,
                 combine: str = 'mean',
                 pool_topk: int = 1,
                 image_branch: Optional[str] = None,
                 loss_weights: Optional[Dict[str, float]] = None,
                 loss: Dict = dict(type='ClassImbalanceBCELoss'),
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(loss=sized_loss_config(loss, num_classes), thr=thr,
                         topk=topk, init_cfg=init_cfg)
        if not getattr(self.loss_module, 'use_sigmoid', True):
            raise ValueError('SpatialContextHead gives its loss logits (B, N):'
                             ' set use_sigmoid=True')
        if combine not in COMBINE:
            raise ValueError(f'combine must be one of {sorted(COMBINE)}, '
                             f'got {combine!r}')
        if context_scale < 1:
            raise ValueError(f'context_scale must be >= 1 (context patches '
                             f'contain their object), got {context_scale}')
        try:
            self.loss_weights = LossWeights(**(loss_weights or {}))
        except TypeError as e:
            raise ValueError(f'loss_weights takes {LossWeights._fields}, '
                             f'got {sorted(loss_weights)}') from e
        generator = dict(patch_generator)
        if generator.get('type') == 'RPNPatchGenerator':
            generator.setdefault('in_channels', in_channels)
        self.patch_generator = MODELS.build(generator)
        if not box_supervision and self.patch_generator.needs_boxes:
            raise ValueError(
                f'box_supervision=False trains without boxes, but '
                f'{type(self.patch_generator).__name__} learns from them: '
                'use AnchorPatchGenerator')
        if refine is None:
            refine = 'test' if box_supervision else 'none'
        if refine not in REFINE:
            raise ValueError(f'refine must be one of {REFINE}, got {refine!r}')
        if refine != 'none' and not box_supervision:
            raise ValueError(
                f"refine={refine!r} uses the location regressor's boxes, "
                'which box_supervision=False does not train: set '
                "refine='none'")
        self.refine = refine
        self.branches = PatchBranches(num_classes, in_channels, num_levels,
                                      roi_size, sampling_ratio,
                                      canonical_scale, canonical_level,
                                      hidden_channels)
        if image_branch is not None and image_branch not in IMAGE_COMBINE:
            raise ValueError(f'image_branch must be None or one of '
                             f'{sorted(IMAGE_COMBINE)}, got {image_branch!r}')
        self.image_branch = image_branch
        self.image_classifier = None if image_branch is None else \
            nn.Linear(num_levels * in_channels, num_classes)
        self.num_classes = num_classes
        self.num_levels = num_levels
        self.context_scale = context_scale
        self.box_supervision = box_supervision
        self.min_box_size = min_box_size
        self.matching = dict(fg_iou=fg_iou, bg_iou=bg_iou,
                             num_samples=num_samples,
                             positive_fraction=positive_fraction)
        self.add_gt_patches = add_gt_patches
        self.box_coder_weights = tuple(box_coder_weights)
        self.smooth_l1_beta = smooth_l1_beta
        self.combine = combine
        self.pool_topk = pool_topk

    # -- patches ---------------------------------------------------------
    def ground_truth(self,
                     data_samples: List[DataSample]) -> List[GroundTruth]:
        """Boxes and labels of each sample, boxes below ``min_box_size``
        dropped; a sample without boxes, or with a label outside the head's
        ``num_classes``, raises."""
        gts = []
        for i, sample in enumerate(data_samples):
            if 'gt_bboxes' not in sample or 'gt_bboxes_labels' not in sample:
                raise _no_boxes_error(sample, i)
            gt = valid_gt(sample.gt_bboxes, sample.gt_bboxes_labels,
                          self.min_box_size)
            if len(gt.labels) and not (0 <= int(gt.labels.min())
                                       and int(gt.labels.max())
                                       < self.num_classes):
                raise ValueError(
                    f'{sample.get("img_path", f"sample {i}")}: box labels '
                    f'{gt.labels.tolist()} outside 0..{self.num_classes - 1}')
            gts.append(gt)
        return gts

    def patches(
        self,
        pyramid: ImagePyramid,
        gts: Optional[List[GroundTruth]] = None
    ) -> Tuple[Patches, Dict[str, Tensor]]:
        """Object patches (patch generator 1, plus the ground truth when
        training with ``add_gt_patches``) and their context patches (patch
        generator 2); the generator's own losses, renamed."""
        if not isinstance(pyramid, ImagePyramid):
            raise TypeError('SpatialContextHead expects the ImagePyramid that '
                            'SpatialContextClassifier builds, got '
                            f'{type(pyramid).__name__}')
        if len(pyramid.maps) != self.num_levels:
            raise ValueError(
                f'SpatialContextHead(num_levels={self.num_levels}) got '
                f'{len(pyramid.maps)} pyramid levels: match the backbone '
                'out_indices, the neck in_channels and num_levels')
        pyramid_strides(pyramid.maps, pyramid.batch_shape)
        needed = gts if self.patch_generator.needs_boxes else None
        proposals = self.patch_generator(pyramid, needed)
        boxes = list(proposals.boxes)
        is_proposal = [b.new_ones(len(b), dtype=torch.bool) for b in boxes]
        if gts is not None and self.add_gt_patches:
            boxes = [torch.cat([b, g.boxes.to(b)]) for b, g in zip(boxes, gts)]
            is_proposal = [
                torch.cat([m, m.new_zeros(len(g.boxes))])
                for m, g in zip(is_proposal, gts)
            ]
        losses = {PROPOSAL_LOSSES.get(k, k): v
                  for k, v in proposals.losses.items()}
        return self.with_context(boxes, is_proposal,
                                 pyramid.image_sizes), losses

    def with_context(self, boxes: List[Tensor], is_proposal: List[Tensor],
                     image_sizes: List[Tuple[int, int]]) -> Patches:
        """Object patches with their context patches (patch generator 2)."""
        context = [
            expand_boxes(b, self.context_scale, size)
            for b, size in zip(boxes, image_sizes)
        ]
        return Patches(boxes, context, is_proposal)

    def processors(self, pyramid: ImagePyramid, patches: Patches,
                   refine: bool) -> Tuple[Patches, PatchOutputs]:
        """The four processors on ``patches``; with ``refine`` the label
        predictors classify the location regressor's boxes and their
        context patches instead (see ``refine`` in the class docstring).

        Returns:
            tuple: The patches the label predictors classified, and the
            outputs (offsets and objectness always of ``patches``).
        """
        if not refine:
            return patches, self.branches(pyramid, patches)
        _, deltas, objectness = self.branches.locate(pyramid,
                                                     patches.object_boxes)
        boxes = regress_boxes(patches.object_boxes, deltas.detach(),
                              pyramid.image_sizes, self.box_coder_weights)
        refined = self.with_context(boxes, patches.is_proposal,
                                    pyramid.image_sizes)
        return refined, PatchOutputs(
            deltas, objectness, *self.branches.label_logits(pyramid, refined))

    def image_logits(self, outputs: PatchOutputs, patches: Patches,
                     pyramid: ImagePyramid) -> Tensor:
        """Image-level logits (B, N) pooled over the proposals (and joined
        with the image branch's, if any)."""
        log_s, log_not_s = patch_log_scores(
            outputs.objectness, outputs.object_logits, outputs.context_logits,
            self.combine)
        keep = torch.cat(patches.is_proposal)
        counts = [int(m.sum()) for m in patches.is_proposal]
        logits = image_logits(log_s[keep], log_not_s[keep], counts,
                              self.pool_topk)
        if self.image_classifier is None:
            return logits
        return IMAGE_COMBINE[self.image_branch](
            logits, self.image_classifier(pooled_image_features(pyramid)))

    # -- mmpretrain head interface ----------------------------------------
    def pre_logits(self, feats):
        raise NotImplementedError(
            'SpatialContextHead has no single pre-logit feature; use '
            'SpatialContextClassifier.predict_patches for per-patch outputs')

    def forward(self, pyramid: ImagePyramid) -> Tensor:
        """Image-level logits (B, N) from the test-time patches."""
        patches, _ = self.patches(pyramid)
        patches, outputs = self.processors(pyramid, patches,
                                           self.refine != 'none')
        return self.image_logits(outputs, patches, pyramid)

    def loss(self, pyramid: ImagePyramid,
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """Losses: the image-level loss, and with ``box_supervision`` the
        four processors' and the patch generator's."""
        gts = self.ground_truth(data_samples) if self.box_supervision \
            else None
        patches, generator_losses = self.patches(pyramid, gts)
        _, outputs = self.processors(pyramid, patches,
                                     self.refine == 'cascade')
        weights = self.loss_weights
        losses = {k: weights.proposal * v for k, v in generator_losses.items()}
        if gts is not None:
            t = patch_targets(patches.object_boxes, gts, self.num_classes,
                              weights=self.box_coder_weights,
                              **self.matching)
            losses['loss_location'] = weights.location * location_loss(
                outputs.deltas, t.deltas, t.objectness, t.sampled,
                self.smooth_l1_beta)
            losses['loss_patch'] = weights.patch * patch_classifier_loss(
                outputs.objectness, t.objectness, t.sampled)
            losses['loss_object_label'] = (
                weights.object_label * label_predictor_loss(
                    outputs.object_logits, t.labels, t.objectness, t.sampled))
            losses['loss_context_label'] = (
                weights.context_label * label_predictor_loss(
                    outputs.context_logits, t.labels, t.objectness,
                    t.sampled))
        image = self._get_loss(self.image_logits(outputs, patches, pyramid),
                               data_samples)['loss']
        losses['loss_image'] = weights.image * image
        return losses

    def predict_patches(self, pyramid: ImagePyramid) -> List[PatchPredictions]:
        """Test-time patches of each image with their scores (for drawing
        them: :func:`~.aggregation.top_patches`)."""
        proposals, _ = self.patches(pyramid)
        used, outputs = self.processors(pyramid, proposals,
                                        self.refine != 'none')
        scores = patch_scores(outputs.objectness, outputs.object_logits,
                              outputs.context_logits, self.combine)
        boxes = regress_boxes(proposals.object_boxes, outputs.deltas,
                              pyramid.image_sizes, self.box_coder_weights)
        counts = proposals.counts
        return [
            PatchPredictions(*fields) for fields in zip(
                proposals.object_boxes, boxes, used.context_boxes,
                outputs.objectness.sigmoid().split(counts),
                scores.split(counts))
        ]
