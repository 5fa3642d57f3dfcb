from .coco import CocoAnnotationError, CocoMultiLabel, load_coco_json
from .nus_wide import NUSWIDE
from .image_check import ImageLoadError, check_image_file
from .label_matrix import get_label_matrix

__all__ = [
    'CocoMultiLabel', 'CocoAnnotationError', 'load_coco_json', 'NUSWIDE',
    'ImageLoadError', 'check_image_file', 'get_label_matrix'
]
