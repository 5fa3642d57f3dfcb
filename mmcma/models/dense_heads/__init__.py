"""Patch generator 1 of the spatial-context network (mmdet's dense heads):
object patches on the feature pyramid, learnt from boxes
(:class:`RPNPatchGenerator`) or fixed (:class:`AnchorPatchGenerator`), both
returning :class:`~..utils.patch_types.Proposals`."""
from .anchor_patch_generator import AnchorPatchGenerator
from .patch_anchors import AnchorConfig, build_anchor_generator, image_list
from .rpn_patch_generator import (NarrowRPNHead, RPNHeadConfig,
                                  RPNPatchGenerator, RPNTestConfig,
                                  RPNTrainConfig)

__all__ = [
    'AnchorPatchGenerator', 'AnchorConfig', 'build_anchor_generator',
    'image_list', 'NarrowRPNHead', 'RPNHeadConfig', 'RPNPatchGenerator',
    'RPNTestConfig', 'RPNTrainConfig'
]
