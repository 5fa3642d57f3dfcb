"""Box-level task modules of the spatial-context network, registered in
``TASK_UTILS`` and built from the head's ``train_cfg`` (assigner, sampler)
and branches (box coder), as mmdet's: :class:`MaxIoUAssigner`,
:class:`BalancedRandomSampler`, :class:`DeltaXYWHBoxCoder`; the box
geometry (``box_ops``) and the patch targets built with them."""
from .balanced_sampler import BalancedRandomSampler
from .box_ops import expand_boxes, pyramid_strides, regress_boxes, valid_gt
from .delta_box_coder import MAX_LOG_RATIO, DeltaXYWHBoxCoder
from .ground_truth import ground_truth
from .max_iou_assigner import BACKGROUND, IGNORED, MaxIoUAssigner
from .patch_targets import match_patches, patch_targets

__all__ = [
    'BalancedRandomSampler', 'ground_truth', 'expand_boxes', 'pyramid_strides',
    'regress_boxes', 'valid_gt', 'MAX_LOG_RATIO', 'DeltaXYWHBoxCoder',
    'BACKGROUND', 'IGNORED', 'MaxIoUAssigner', 'match_patches',
    'patch_targets'
]
