"""Two-branch network of *Spatial-context-aware deep neural network for
multi-label image classification* (ICASSP 2022; known from its slides).

Feature extractor (any backbone + :class:`FeaturePyramidNeck`), two patch
generators (:class:`RPNPatchGenerator` or :class:`AnchorPatchGenerator`;
:func:`expand_boxes`), four patch processors (:class:`PatchBranches`), and
image-level scores aggregated from the patches (:func:`patch_log_scores`,
:func:`image_logits`), in :class:`SpatialContextHead` under
:class:`SpatialContextClassifier`. Design notes: ``docs/spatial_context.md``.
"""
from .aggregation import (COMBINE, EMPTY_LOGIT, IMAGE_COMBINE, image_logits,
                          patch_log_scores, patch_scores, top_patches)
from .box_ops import (decode_boxes, encode_boxes, expand_boxes,
                      pyramid_strides, regress_boxes, valid_gt)
from .classifier import SpatialContextClassifier, image_sizes
from .fpn import FeaturePyramidNeck
from .generators import AnchorPatchGenerator, RPNPatchGenerator
from .head import SpatialContextHead
from .losses import (label_predictor_loss, location_loss,
                     patch_classifier_loss)
from .processors import PatchBranches, pooled_image_features
from .targets import match_patches, patch_targets, sample_patches
from .types import (GroundTruth, ImagePyramid, LossWeights, PatchOutputs,
                    PatchPredictions, Patches, PatchTargets, Proposals,
                    TopPatches)

__all__ = [
    'COMBINE', 'EMPTY_LOGIT', 'IMAGE_COMBINE', 'image_logits', 'patch_log_scores',
    'patch_scores', 'top_patches', 'decode_boxes',
    'encode_boxes', 'expand_boxes', 'pyramid_strides', 'regress_boxes',
    'valid_gt',
    'SpatialContextClassifier', 'image_sizes', 'FeaturePyramidNeck',
    'AnchorPatchGenerator', 'RPNPatchGenerator', 'SpatialContextHead',
    'label_predictor_loss', 'location_loss', 'patch_classifier_loss',
    'PatchBranches', 'pooled_image_features', 'match_patches', 'patch_targets', 'sample_patches',
    'GroundTruth', 'ImagePyramid', 'LossWeights', 'PatchOutputs',
    'PatchPredictions', 'Patches', 'PatchTargets', 'Proposals', 'TopPatches'
]
