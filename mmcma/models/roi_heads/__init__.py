"""The RoI stage of the spatial-context network (mmdet's RoI head parts):
patch generator 2 (:class:`ContextPatchGenerator`), the RoI extractor
(:class:`PatchRoIExtractor`), the two branches with the four processors
(:class:`PatchBranches`), and the image-level scores from the patches
(:class:`PatchAggregator`, the functions of ``patch_scores``)."""
from .context_patches import ContextPatchGenerator
from .patch_aggregator import ImageBranchConfig, PatchAggregator
from .patch_branches import PatchBranches
from .patch_scores import (COMBINE, EMPTY_LOGIT, IMAGE_COMBINE, image_logits,
                           patch_log_scores, patch_scores,
                           pooled_image_features, top_patches)
from .roi_extractor import PatchRoIExtractor, split_groups

__all__ = [
    'ContextPatchGenerator', 'ImageBranchConfig', 'PatchAggregator',
    'PatchBranches', 'COMBINE', 'EMPTY_LOGIT', 'IMAGE_COMBINE',
    'image_logits', 'patch_log_scores', 'patch_scores',
    'pooled_image_features', 'top_patches', 'PatchRoIExtractor',
    'split_groups'
]
