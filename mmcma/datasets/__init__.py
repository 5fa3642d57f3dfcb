from .boxes import (BoxAnnotationError, coco_bbox_to_xyxy,
                    voc_bndbox_to_xyxy)
from .coco import CocoAnnotationError, CocoMultiLabel, load_coco_json
from .files import DataFileError
from .nus_wide import NUSWIDE
from .image_check import (ImageLoadError, ImageTooLargeError,
                          check_image_file, check_image_size)
from .label_matrix import get_label_matrix
from .transforms import (BoxRandomResizedCrop, MultiScaleCrop,
                         PackInputsWithBoxes)
from .voc import VOCMultiLabel
from .youtube8m import PackYouTube8MInputs, YouTube8MDataset
from .youtube8m_records import dequantize, quantize

__all__ = [
    'CocoMultiLabel', 'CocoAnnotationError', 'load_coco_json', 'NUSWIDE',
    'VOCMultiLabel', 'DataFileError', 'ImageLoadError', 'ImageTooLargeError',
    'check_image_file', 'check_image_size', 'get_label_matrix',
    'YouTube8MDataset', 'PackYouTube8MInputs', 'dequantize', 'quantize',
    'generate_youtube8m', 'MultiScaleCrop', 'BoxAnnotationError',
    'coco_bbox_to_xyxy', 'voc_bndbox_to_xyxy', 'BoxRandomResizedCrop',
    'PackInputsWithBoxes'
]


def __getattr__(name: str):
    """``generate_youtube8m`` on first use: importing the generator with the
    package would make ``python -m mmcma.datasets.youtube8m_generator``
    warn that the module was imported before it ran."""
    if name == 'generate_youtube8m':
        from .youtube8m_generator import generate_youtube8m
        return generate_youtube8m
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
