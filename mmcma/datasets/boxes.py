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
from typing import List, Sequence, Tuple

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


def voc_image_size(root: ET.Element, where: str) -> Tuple[int, int]:
    """``(width, height)`` from a VOC xml's ``<size>``.

    Raises:
        BoxAnnotationError: unless both are positive integers.
    """
    size = root.find('size')
    try:
        width, height = (int((size.findtext(tag) or '').strip())
                         for tag in ('width', 'height'))
    except (AttributeError, ValueError) as e:
        raise BoxAnnotationError(
            f'{where}: no <size> with integer <width> and <height>: the '
            'boxes cannot be checked against the image') from e
    if width <= 0 or height <= 0:
        raise BoxAnnotationError(
            f'{where}: <size> is {width} x {height}: it must be positive')
    return width, height


def voc_bndbox_to_xyxy(obj: ET.Element, image_size: Tuple[int, int],
                       where: str) -> List[float]:
    """An object's ``<bndbox>`` as ``[x0, y0, x1, y1]`` pixel edges.

    VOC's ``xmin, ymin, xmax, ymax`` are 1-based inclusive pixel indices
    (a full 500 px wide image is ``xmin=1, xmax=500``); as in Detectron2,
    ``xmin`` and ``ymin`` are shifted by -1 and ``xmax``, ``ymax`` kept.

    Args:
        obj (Element): The ``<object>`` element.
        image_size (tuple): ``(width, height)`` (:func:`voc_image_size`).
        where (str): Names the file and object in errors.

    Raises:
        BoxAnnotationError: unless the box has four finite numbers with
            ``1 <= xmin <= xmax <= width`` and ``1 <= ymin <= ymax <=
            height``.
    """
    box = obj.find('bndbox')
    try:
        xmin, ymin, xmax, ymax = (
            float(box.findtext(tag))
            for tag in ('xmin', 'ymin', 'xmax', 'ymax'))
    except (AttributeError, TypeError, ValueError) as e:
        raise BoxAnnotationError(
            f'{where}: no <bndbox> with numeric xmin, ymin, xmax, '
            'ymax') from e
    coords = f'(xmin, ymin, xmax, ymax) = ({xmin:g}, {ymin:g}, {xmax:g}, ' \
        f'{ymax:g})'
    if not all(map(math.isfinite, (xmin, ymin, xmax, ymax))):
        raise BoxAnnotationError(
            f'{where}: {coords} has a NaN or infinite coordinate')
    if xmin > xmax or ymin > ymax:
        raise BoxAnnotationError(
            f'{where}: {coords} has xmin > xmax or ymin > ymax')
    width, height = image_size
    if xmin < 1 or ymin < 1 or xmax > width or ymax > height:
        raise BoxAnnotationError(
            f'{where}: {coords} is not inside the {width} x {height} image '
            '(VOC coordinates are 1-based: 1 <= xmin <= xmax <= width; a 0 '
            'suggests a file written 0-based)')
    return [xmin - 1, ymin - 1, xmax, ymax]
