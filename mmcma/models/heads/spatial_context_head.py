"""The two-branch spatial-context head, in mmdet's two-stage layout.

Data flow (``docs/spatial_context.md``)::

    pyramid --patch_generator (RPN or anchors)--> object patches
            --context_generator--> context patches (expanded, clipped)
            --roi_extractor (RoIAlign)--> RoI features of both
            --branches (an MLP per branch, four processors)--> outputs
            --aggregation (objectness x label probability, max over
              patches)--> (B, N) logits

Training from boxes (``train_cfg``): the assigner matches patches to
ground-truth boxes, the sampler draws the patches the losses use, the
branches' box coder encodes the offsets.
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmpretrain.models.heads import MultiLabelClsHead
from mmpretrain.registry import MODELS, TASK_UTILS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..losses.patch_losses import (label_predictor_loss, location_loss,
                                   patch_classifier_loss)
from ..losses.weighted_bce import sized_loss_config
from ..task_modules import (ground_truth, patch_targets, pyramid_strides,
                            regress_boxes)
from ..utils.patch_types import (GroundTruth, ImagePyramid, PatchOutputs,
                                 PatchPredictions, Patches)
from .spatial_context_cfg import (PROPOSAL_LOSSES, PatchTrainConfig,
                                  patch_test_config, patch_train_config)


#: State-dict key prefixes of checkpoints from before the mmdet layout, and
#: where those tensors live now (renamed when such a checkpoint loads).
OLD_KEYS = {
    'branches.reducer.': 'roi_extractor.reducer.',
    'image_classifier.': 'aggregation.image_classifier.',
}


def _with_defaults(cfg: dict, **defaults) -> dict:
    """A copy of ``cfg`` with ``defaults`` for the keys it lacks."""
    cfg = dict(cfg)
    for key, value in defaults.items():
        cfg.setdefault(key, value)
    return cfg


def _refuse_unknown(unknown: dict) -> None:
    """Raise for constructor keywords the head does not take, naming where
    mmpretrain's head-level ``thr`` / ``topk`` live here (``test_cfg``, as
    in mmdet's heads): a plain TypeError would not say."""
    if not unknown:
        return
    moved = sorted(set(unknown) & {'thr', 'topk'})
    if moved:
        raise TypeError(
            f'SpatialContextHead takes {" and ".join(moved)} in test_cfg, '
            f'as mmdet heads do: set model.head.test_cfg.{moved[0]} (e.g. '
            f'--cfg-options model.head.test_cfg.{moved[0]}=...), not '
            f'model.head.{moved[0]}')
    raise TypeError('SpatialContextHead got unexpected arguments: '
                    f'{", ".join(sorted(unknown))}')


@MODELS.register_module()
class SpatialContextHead(MultiLabelClsHead):
    """Object and context patches, four processors, image-level scores.

    Consumes :class:`ImagePyramid` (built by
    :class:`SpatialContextClassifier` from the neck's levels and the input
    geometry). ``forward`` returns image-level logits (B, N) pooled over the
    test-time patches, so the image-level loss takes logits
    (``use_sigmoid=True``) and predictions are mmpretrain's multi-label
    ones. Every part is built from its config; the modes are configs:
    box-supervised (``train_cfg`` a dict, an RPN or anchors) or weakly
    supervised (``train_cfg=None``, anchors); which boxes the label
    predictors classify (``train_cfg.refine_boxes``,
    ``test_cfg.refine_boxes``); an image branch (``aggregation``).

    Args:
        num_classes (int): Number of labels N.
        roi_extractor (dict): :class:`PatchRoIExtractor` (its
            ``in_channels`` are the pyramid's).
        patch_generator (dict): Patch generator 1,
            :class:`RPNPatchGenerator` (its ``in_channels`` default to the
            extractor's) or :class:`AnchorPatchGenerator`.
        context_generator (dict): Patch generator 2,
            :class:`ContextPatchGenerator`.
        branches (dict): :class:`PatchBranches` (``num_classes`` and
            ``in_features`` filled in), with the box coder.
        aggregation (dict): :class:`PatchAggregator` (``num_classes`` and
            the image branch's ``in_channels`` filled in).
        loss (dict): Image-level loss on logits.
        train_cfg (dict, optional): :class:`PatchTrainConfig` (assigner,
            sampler, ...); None: weakly supervised, image labels only
            (needs a generator without ``needs_boxes``).
        test_cfg (dict, optional): :class:`PatchTestConfig`
            (``refine_boxes``, ``thr``, ``topk``).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 roi_extractor: dict,
                 patch_generator: dict = dict(type='RPNPatchGenerator'),
                 context_generator: dict = dict(type='ContextPatchGenerator'),
                 branches: dict = dict(type='PatchBranches'),
                 aggregation: dict = dict(type='PatchAggregator'),
                 loss: Dict = dict(type='ClassImbalanceBCELoss'),
                 train_cfg: Optional[dict] = dict(),
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 **unknown):
        _refuse_unknown(unknown)
        train = patch_train_config(train_cfg)
        test = patch_test_config(test_cfg, train)
        super().__init__(loss=sized_loss_config(loss, num_classes),
                         thr=test.thr, topk=test.topk, init_cfg=init_cfg)
        self.train_cfg, self.test_cfg = train, test
        if not getattr(self.loss_module, 'use_sigmoid', True):
            raise ValueError('SpatialContextHead gives its loss logits (B, N):'
                             ' set use_sigmoid=True')
        self.num_classes = num_classes
        if 'in_channels' not in roi_extractor:
            raise ValueError('SpatialContextHead roi_extractor needs '
                             'in_channels (the pyramid channels)')
        in_channels = roi_extractor['in_channels']
        if patch_generator.get('type') == 'RPNPatchGenerator':
            patch_generator = _with_defaults(patch_generator,
                                             in_channels=in_channels)
        self.patch_generator = MODELS.build(patch_generator)
        if self.train_cfg is None and self.patch_generator.needs_boxes:
            raise ValueError(
                f'train_cfg=None trains without boxes, but '
                f'{type(self.patch_generator).__name__} learns from them: '
                'use AnchorPatchGenerator')
        self.context_generator = MODELS.build(
            _with_defaults(context_generator, type='ContextPatchGenerator'))
        self.roi_extractor = MODELS.build(
            _with_defaults(roi_extractor, type='PatchRoIExtractor'))
        self.branches = MODELS.build(_with_defaults(
            branches, type='PatchBranches', num_classes=num_classes,
            in_features=self.roi_extractor.out_features))
        aggregation = _with_defaults(aggregation, type='PatchAggregator',
                                     num_classes=num_classes)
        if aggregation.get('image_branch') is not None:
            aggregation['image_branch'] = _with_defaults(
                aggregation['image_branch'],
                in_channels=self.roi_extractor.num_levels * in_channels)
        self.aggregation = MODELS.build(aggregation)
        if self.train_cfg is not None:
            self.assigner = TASK_UTILS.build(self.train_cfg.assigner)
            self.sampler = TASK_UTILS.build(self.train_cfg.sampler)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Load, renaming the keys of an older checkpoint (:data:`OLD_KEYS`)
        first."""
        for old, new in OLD_KEYS.items():
            for key in [k for k in state_dict if k.startswith(prefix + old)]:
                state_dict[prefix + new + key[len(prefix + old):]] = \
                    state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # -- patches ---------------------------------------------------------
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
        num_levels = self.roi_extractor.num_levels
        if len(pyramid.maps) != num_levels:
            raise ValueError(
                f'SpatialContextHead(roi_extractor num_levels={num_levels}) '
                f'got {len(pyramid.maps)} pyramid levels: match the backbone '
                'out_indices, the neck in_channels and num_levels')
        pyramid_strides(pyramid.maps, pyramid.batch_shape)
        needed = gts if self.patch_generator.needs_boxes else None
        proposals = self.patch_generator(pyramid, needed)
        boxes = list(proposals.boxes)
        is_proposal = [b.new_ones(len(b), dtype=torch.bool) for b in boxes]
        if gts is not None and self.train_cfg.add_gt_patches:
            boxes = [torch.cat([b, g.boxes.to(b)]) for b, g in zip(boxes, gts)]
            is_proposal = [
                torch.cat([m, m.new_zeros(len(g.boxes))])
                for m, g in zip(is_proposal, gts)
            ]
        losses = {PROPOSAL_LOSSES.get(k, k): v
                  for k, v in proposals.losses.items()}
        return self.context_generator(boxes, is_proposal,
                                      pyramid.image_sizes), losses

    def run_branches(self, pyramid: ImagePyramid,
                     patches: Patches) -> PatchOutputs:
        """The four processors on ``patches`` (both kinds pooled in one
        RoIAlign call)."""
        return self.branches(*self.roi_extractor(
            pyramid, patches.object_boxes, patches.context_boxes))

    def processors(self, pyramid: ImagePyramid, patches: Patches,
                   refine: bool) -> Tuple[Patches, PatchOutputs]:
        """The four processors on ``patches``; with ``refine`` the label
        predictors classify the location regressor's boxes and their
        context patches instead.

        Returns:
            tuple: The patches the label predictors classified, and the
            outputs (offsets and objectness always of ``patches``).
        """
        if not refine:
            return patches, self.run_branches(pyramid, patches)
        rois, = self.roi_extractor(pyramid, patches.object_boxes)
        _, deltas, objectness = self.branches.locate(rois)
        boxes = regress_boxes(patches.object_boxes, deltas.detach(),
                              pyramid.image_sizes, self.branches.box_coder)
        refined = self.context_generator(boxes, patches.is_proposal,
                                         pyramid.image_sizes)
        return refined, PatchOutputs(
            deltas, objectness, *self.branches.label_logits(
                *self.roi_extractor(pyramid, refined.object_boxes,
                                    refined.context_boxes)))

    # -- mmpretrain head interface ----------------------------------------
    def pre_logits(self, feats):
        raise NotImplementedError(
            'SpatialContextHead has no single pre-logit feature; use '
            'SpatialContextClassifier.predict_patches for per-patch outputs')

    def forward(self, pyramid: ImagePyramid) -> Tensor:
        """Image-level logits (B, N) from the test-time patches."""
        patches, _ = self.patches(pyramid)
        patches, outputs = self.processors(pyramid, patches,
                                           self.test_cfg.refine_boxes)
        return self.aggregation(outputs, patches.is_proposal, pyramid)

    def loss(self, pyramid: ImagePyramid,
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """Losses: the image-level loss, and with a ``train_cfg`` the four
        processors' and the patch generator's."""
        train = self.train_cfg
        gts = None if train is None else ground_truth(
            data_samples, train.min_box_size, self.num_classes)
        patches, generator_losses = self.patches(pyramid, gts)
        _, outputs = self.processors(pyramid, patches,
                                     train is not None and train.refine_boxes)
        losses = {}
        if train is not None:
            losses = {k: train.loss_weights.proposal * v
                      for k, v in generator_losses.items()}
            losses.update(self.box_losses(outputs, patches, gts, train))
        image = self._get_loss(
            self.aggregation(outputs, patches.is_proposal, pyramid),
            data_samples)['loss']
        weight = 1.0 if train is None else train.loss_weights.image
        losses['loss_image'] = weight * image
        return losses

    def box_losses(self, outputs: PatchOutputs, patches: Patches,
                   gts: List[GroundTruth],
                   train: PatchTrainConfig) -> Dict[str, Tensor]:
        """The four processors' losses on the sampled patches."""
        t = patch_targets(patches.object_boxes, gts, self.num_classes,
                          self.assigner, self.sampler,
                          self.branches.box_coder)
        weights = train.loss_weights
        return {
            'loss_location': weights.location * location_loss(
                outputs.deltas, t.deltas, t.objectness, t.sampled,
                train.smooth_l1_beta),
            'loss_patch': weights.patch * patch_classifier_loss(
                outputs.objectness, t.objectness, t.sampled),
            'loss_object_label': weights.object_label * label_predictor_loss(
                outputs.object_logits, t.labels, t.objectness, t.sampled),
            'loss_context_label':
            weights.context_label * label_predictor_loss(
                outputs.context_logits, t.labels, t.objectness, t.sampled),
        }

    def predict_patches(self, pyramid: ImagePyramid) -> List[PatchPredictions]:
        """Test-time patches of each image with their scores (for drawing
        them: :func:`~..roi_heads.top_patches`)."""
        proposals, _ = self.patches(pyramid)
        used, outputs = self.processors(pyramid, proposals,
                                        self.test_cfg.refine_boxes)
        scores = self.aggregation.patch_scores(outputs)
        boxes = regress_boxes(proposals.object_boxes, outputs.deltas,
                              pyramid.image_sizes, self.branches.box_coder)
        counts = proposals.counts
        return [
            PatchPredictions(*fields) for fields in zip(
                proposals.object_boxes, boxes, used.context_boxes,
                outputs.objectness.sigmoid().split(counts),
                scores.split(counts))
        ]
