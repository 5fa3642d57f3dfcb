"""Pipeline steps mmpretrain lacks (registered in mmpretrain's TRANSFORMS):
box-aware crops and packing, ML-GCN's multi-scale crop."""
from .box_transforms import (BoxRandomResizedCrop, PackInputsWithBoxes,
                             crop_and_scale_boxes)
from .multi_scale_crop import MultiScaleCrop

__all__ = [
    'BoxRandomResizedCrop', 'MultiScaleCrop', 'PackInputsWithBoxes',
    'crop_and_scale_boxes'
]
