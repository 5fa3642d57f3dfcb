"""Box-aware pipeline steps (registered in mmpretrain's TRANSFORMS)."""
from .box_transforms import (BoxRandomResizedCrop, PackInputsWithBoxes,
                             crop_and_scale_boxes)

__all__ = [
    'BoxRandomResizedCrop', 'PackInputsWithBoxes', 'crop_and_scale_boxes'
]
