"""Instance boxes from COCO and PASCAL VOC annotations.

Every box leaves here as ``x0, y0, x1, y1`` in pixel-edge coordinates of the
original image (a box covering pixel columns 0..9 is ``x0=0, x1=10``), the
convention of mmcv's geometric transforms and torchvision's box ops. A set
of K boxes is a ``(K, 4)`` float32 array with a ``(K,)`` int64 array of
label indices, under the keys ``gt_bboxes`` and ``gt_bboxes_labels``
(MMDetection's names).

Each box is checked where it enters against the image size its annotation
file declares (COCO's ``width`` / ``height``, VOC's ``<size>``): a box more
than :data:`BORDER_TOLERANCE` pixels outside is an error naming the file
and the annotation id (COCO) or object index (VOC); within it, it is
clipped to the image (rounding in the tool that wrote it). The sample also
carries where its boxes came from (:data:`BOX_ORIGIN_KEYS`), so that the
pipeline can check the declared size against the decoded image and name
the annotation of a box that goes wrong later
(:mod:`mmcma.datasets.transforms.box_transforms`).
"""
import math
import xml.etree.ElementTree as ET
from typing import List, Sequence, Tuple

import numpy as np

from .files import DataFileError


class BoxAnnotationError(DataFileError):
    """A box annotation that cannot be read as ``x0, y0, x1, y1``, or that
    disagrees with its image."""


#: Pixels a box may reach past the declared image border (rounding in the
#: tools that wrote the annotations); such a box is clipped to the image.
BORDER_TOLERANCE = 1.0

#: Sample keys naming where its boxes came from: the annotation file, the
#: (height, width) it declares for the image, and per box the COCO
#: annotation id or the VOC object index ((K,) int64).
BOX_ORIGIN_KEYS = ('box_ann_file', 'box_ann_shape', 'gt_bboxes_ids')


def box_name(results: dict, k: int) -> str:
    """``'FILE: annotation 9'`` (COCO) or ``'FILE: object 1'`` (VOC) for
    the ``k``-th box of a sample, or ``'box k'`` without an origin."""
    ids = results.get('gt_bboxes_ids')
    file = results.get('box_ann_file')
    if ids is None or file is None or k >= len(ids):
        return f'box {k}'
    kind = 'object' if str(file).endswith('.xml') else 'annotation'
    return f'{file}: {kind} {int(ids[k])}'


def clip_to_image(box: List[float], image_size: Tuple[int, int],
                  where: str) -> List[float]:
    """``box`` (xyxy) clipped to the ``(width, height)`` image, if it
    reaches at most :data:`BORDER_TOLERANCE` pixels past it.

    Raises:
        BoxAnnotationError: naming ``where``, if it reaches further.
    """
    width, height = image_size
    x0, y0, x1, y1 = box
    over = max(-x0, -y0, x1 - width, y1 - height)
    if over > BORDER_TOLERANCE:
        raise BoxAnnotationError(
            f'{where}: the box [x0, y0, x1, y1] = '
            f'[{x0:g}, {y0:g}, {x1:g}, {y1:g}] reaches {over:g} px outside '
            f'the {width} x {height} image its annotation file declares')
    return [min(max(x0, 0.0), width), min(max(y0, 0.0), height),
            min(max(x1, 0.0), width), min(max(y1, 0.0), height)]


def coco_image_size(info: dict, where: str) -> Tuple[int, int]:
    """``(width, height)`` of a COCO ``images`` entry.

    Raises:
        BoxAnnotationError: unless both are positive integers.
    """
    width, height = info.get('width'), info.get('height')
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
               for v in (width, height)):
        raise BoxAnnotationError(
            f'{where}: width {width!r} and height {height!r} must be '
            'positive integers: the boxes cannot be checked against the '
            'image')
    return width, height


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
    if not all(map(math.isfinite, (x + w, y + h))):
        raise BoxAnnotationError(
            f'{where}: bbox {bbox!r} overflows (x + width or y + height is '
            'infinite)')
    if w < 0 or h < 0:
        raise BoxAnnotationError(
            f'{where}: bbox {bbox!r} has a negative width or height')
    return [x, y, x + w, y + h]


def box_sample(boxes: Sequence[Sequence[float]], labels: Sequence[int],
               ids: Sequence[int], ann_file: str,
               image_size: Tuple[int, int]) -> dict:
    """The box keys of a sample: ``gt_bboxes`` (K, 4) float32,
    ``gt_bboxes_labels`` (K,) int64 and the :data:`BOX_ORIGIN_KEYS`
    (``image_size`` is the declared ``(width, height)``)."""
    return dict(gt_bboxes=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
                gt_bboxes_labels=np.asarray(labels,
                                            dtype=np.int64).reshape(-1),
                gt_bboxes_ids=np.asarray(ids, dtype=np.int64).reshape(-1),
                box_ann_file=ann_file,
                box_ann_shape=(int(image_size[1]), int(image_size[0])))


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
