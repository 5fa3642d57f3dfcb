"""Instance boxes from COCO and PASCAL VOC annotations.

Every box leaves here as ``x0, y0, x1, y1`` in pixel-edge coordinates of the
original image (a box covering pixel columns 0..9 is ``x0=0, x1=10``), the
convention of mmcv's geometric transforms and torchvision's box ops. A set
of K boxes is a ``(K, 4)`` float32 array with a ``(K,)`` int64 array of
label indices, under the keys ``gt_bboxes`` and ``gt_bboxes_labels``
(MMDetection's names).
"""
import math
import xml.etree.ElementTree as ET
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .files import DataFileError


class BoxAnnotationError(DataFileError):
    """A box annotation that cannot be read as ``x0, y0, x1, y1``."""


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def coco_bbox_to_xyxy(bbox, where: str) -> List[float]:
    """COCO ``[x, y, width, height]`` to ``[x0, y0, x1, y1]``.

    Args:
        bbox: The annotation's ``bbox`` field.
        where (str): Names the file and annotation in errors.

    Returns:
        list: ``[x, y, x + width, y + height]``.

    Raises:
        BoxAnnotationError: unless ``bbox`` holds four finite numbers with
            non-negative width and height.
    """
    if (not isinstance(bbox, (list, tuple)) or len(bbox) != 4
            or not all(_is_number(v) for v in bbox)):
        raise BoxAnnotationError(
            f'{where}: bbox must be four finite numbers [x, y, width, '
            f'height], got {bbox!r}')
    x, y, w, h = (float(v) for v in bbox)
    if w < 0 or h < 0:
        raise BoxAnnotationError(
            f'{where}: bbox {bbox!r} has a negative width or height')
    return [x, y, x + w, y + h]


def boxes_to_arrays(boxes: Sequence[Sequence[float]],
                    labels: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
    """Lists of boxes and labels as ``(K, 4)`` float32 and ``(K,)`` int64."""
    return (np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
            np.asarray(labels, dtype=np.int64).reshape(-1))


def parse_voc_boxes(content: bytes,
                    class_to_idx: Dict[str, int],
                    where: str,
                    difficult: str = 'ignore') -> Tuple[np.ndarray,
                                                        np.ndarray]:
    """Boxes and labels of the objects of one VOC annotation xml.

    VOC's ``<bndbox>`` holds 1-based inclusive pixel indices; as in
    Detectron2, ``xmin`` and ``ymin`` are shifted by -1 and ``xmax``,
    ``ymax`` kept, which gives pixel-edge coordinates.

    Args:
        content (bytes): The xml file's content.
        class_to_idx (dict): Class name to label index.
        where (str): Names the file in errors.
        difficult (str): ``'ignore'`` drops objects marked difficult (their
            labels are not image-level positives either); ``'include'``
            keeps them.

    Returns:
        tuple: ``(boxes (K, 4) float32, labels (K,) int64)``.

    Raises:
        BoxAnnotationError: for malformed xml, an object without a name or
            with an unknown one, or a ``<bndbox>`` without four numbers.
    """
    if difficult not in ('ignore', 'include'):
        raise ValueError(f"difficult must be 'ignore' or 'include', got "
                         f'{difficult!r}')
    try:
        root = ET.fromstring(content)
    except ET.ParseError as e:
        raise BoxAnnotationError(f'{where}: malformed xml ({e})') from e
    boxes, labels = [], []
    for k, obj in enumerate(root.findall('object')):
        name = (obj.findtext('name') or '').strip()
        if name not in class_to_idx:
            raise BoxAnnotationError(
                f'{where}: object {k} has the class {name!r}, which is not '
                f'one of {sorted(class_to_idx)}')
        if difficult == 'ignore' and (obj.findtext('difficult')
                                      or '0').strip() == '1':
            continue
        box = obj.find('bndbox')
        try:
            xmin, ymin, xmax, ymax = (
                float(box.findtext(tag))
                for tag in ('xmin', 'ymin', 'xmax', 'ymax'))
        except (AttributeError, TypeError, ValueError) as e:
            raise BoxAnnotationError(
                f'{where}: object {k} ({name}) has no <bndbox> with numeric '
                'xmin, ymin, xmax, ymax') from e
        if not all(map(math.isfinite, (xmin, ymin, xmax, ymax))):
            raise BoxAnnotationError(
                f'{where}: object {k} ({name}) has a NaN or infinite '
                'coordinate')
        if not xmin <= xmax or not ymin <= ymax:
            raise BoxAnnotationError(
                f'{where}: object {k} ({name}) has xmin > xmax or ymin > ymax')
        boxes.append([xmin - 1, ymin - 1, xmax, ymax])
        labels.append(class_to_idx[name])
    return boxes_to_arrays(boxes, labels)
