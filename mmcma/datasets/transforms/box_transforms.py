"""Pipeline steps that carry instance boxes (``gt_bboxes``) to the model.

What the stack already does with ``gt_bboxes`` (plain ``(K, 4)`` numpy
``x0, y0, x1, y1`` arrays; mmcv-lite 2.2 has no ``HorizontalBoxes``, that is
MMDetection's):

- mmcv's ``RandomFlip``, ``Resize``, ``RandomResize`` (through ``Resize``),
  ``RandomChoiceResize`` and ``CenterCrop`` move the boxes with the image
  (``CenterCrop`` clips them; a box cropped away becomes empty);
- mmpretrain's ``RandomCrop``, ``RandomResizedCrop``, ``ResizeEdge`` and
  ``EfficientNet*Crop`` move the image only: with boxes, use
  :class:`BoxRandomResizedCrop` instead of ``RandomResizedCrop``;
- mmpretrain's ``PackInputs`` packs ``algorithm_keys`` as they are (numpy
  arrays, which the data preprocessor does not move to the device):
  :class:`PackInputsWithBoxes` packs them as tensors.

Before the crop (:class:`BoxRandomResizedCrop`) and at packing, the image
size the annotation file declared is compared with the decoded image
(``ori_shape``, set by ``LoadImageFromFile``): a difference is a
:class:`~mmcma.datasets.BoxAnnotationError` naming the annotation file and
the image, since the boxes cannot be placed on that image. A box that a crop
removes (zero width or height: cropped away, or zero-sized in the
annotations) is dropped with its label and counted, never kept as an empty
box: the count is the data sample's ``gt_bboxes_dropped`` metainfo (0 when
none). The model also ignores boxes smaller than its ``min_box_size``
(:func:`mmcma.models.task_modules.valid_gt`).
"""
from typing import Optional, Tuple

import numpy as np
import torch
from mmpretrain.datasets.transforms import PackInputs, RandomResizedCrop
from mmpretrain.registry import TRANSFORMS

from ..boxes import BORDER_TOLERANCE, BoxAnnotationError, box_name

BOX_KEYS = ('gt_bboxes', 'gt_bboxes_labels')
#: Per-box keys kept in step when boxes are dropped.
PER_BOX_KEYS = BOX_KEYS + ('gt_bboxes_ids', )


def check_declared_shape(results: dict) -> None:
    """Refuse boxes whose annotation declared another image size than the
    image decodes to (``box_ann_shape`` against ``ori_shape``, both
    ``(height, width)``); nothing to check when either is absent.

    Raises:
        BoxAnnotationError: naming the annotation file, the image and both
            sizes.
    """
    declared, decoded = results.get('box_ann_shape'), results.get(
        'ori_shape')
    if declared is None or decoded is None or \
            tuple(declared) == tuple(decoded[:2]):
        return
    (height, width), (real_h, real_w) = declared, decoded[:2]
    swapped = (' (height and width swapped: does an EXIF orientation tag '
               'rotate it?)' if (height, width) == (real_w, real_h) else '')
    raise BoxAnnotationError(
        f'{results.get("box_ann_file")}: declares the image '
        f'{results.get("img_path")} as {width} x {height}, but it decodes '
        f'to {real_w} x {real_h}{swapped}: its boxes cannot be placed on '
        'the image; correct the size in the annotation or the image file')


def drop_empty_boxes(results: dict) -> int:
    """Drop boxes of zero width or height with their labels (and ids), add
    their number to ``results['gt_bboxes_dropped']``; return it."""
    boxes = np.asarray(results['gt_bboxes'], dtype=np.float32)
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    dropped = int((~keep).sum())
    if dropped:
        for key in PER_BOX_KEYS:
            if results.get(key) is not None:
                results[key] = np.asarray(results[key])[keep]
    results['gt_bboxes_dropped'] = results.get('gt_bboxes_dropped',
                                               0) + dropped
    return dropped


def checked_boxes(results: dict) -> bool:
    """Check a sample's boxes as they reach a box step: both keys or none,
    (K, 4) with (K,) labels, finite, declared size = decoded size
    (:func:`check_declared_shape`). Returns whether it has boxes.

    Raises:
        ValueError: naming the sample's image (:class:`BoxAnnotationError`
            for a size that disagrees).
    """
    present = [results.get(key) is not None for key in BOX_KEYS]
    where = results.get('img_path', 'a sample')
    if not any(present):
        return False
    if not all(present):
        raise ValueError(f'{where}: gt_bboxes and gt_bboxes_labels come '
                         'together, got only one of them')
    boxes = np.asarray(results['gt_bboxes'])
    labels = np.asarray(results['gt_bboxes_labels'])
    if boxes.ndim != 2 or boxes.shape[1] != 4 or labels.shape != (
            boxes.shape[0], ):
        raise ValueError(
            f'{where}: gt_bboxes must be (K, 4) and gt_bboxes_labels (K,), '
            f'got {tuple(boxes.shape)} and {tuple(labels.shape)}')
    if not np.isfinite(boxes.astype(np.float64)).all():
        raise ValueError(f'{where}: gt_bboxes holds NaN or infinite values')
    check_declared_shape(results)
    return True


def crop_and_scale_boxes(boxes: np.ndarray, crop: Tuple[int, int, int, int],
                         out_size: Tuple[int, int]) -> np.ndarray:
    """Boxes of an image crop resized to ``out_size``.

    Args:
        boxes (np.ndarray): ``(K, 4)`` xyxy boxes in the source image.
        crop (tuple): ``(x0, y0, width, height)`` of the crop.
        out_size (tuple): ``(height, width)`` the crop is resized to.

    Returns:
        np.ndarray: ``(K, 4)`` float32 boxes in the output image, clipped to
        it; a box outside the crop becomes empty (zero width or height).
    """
    x0, y0, width, height = crop
    out_h, out_w = out_size
    shifted = boxes.astype(np.float32) - np.array([x0, y0, x0, y0],
                                                  np.float32)
    shifted[:, 0::2] = shifted[:, 0::2].clip(0, width) * (out_w / width)
    shifted[:, 1::2] = shifted[:, 1::2].clip(0, height) * (out_h / height)
    return shifted


@TRANSFORMS.register_module()
class BoxRandomResizedCrop(RandomResizedCrop):
    """mmpretrain's ``RandomResizedCrop`` that also moves ``gt_bboxes``.

    Same arguments and same random crop; boxes are shifted, clipped to the
    crop and scaled to ``scale`` (:func:`crop_and_scale_boxes`).
    """

    def rand_crop_params(self, img: np.ndarray) -> Tuple[int, int, int, int]:
        """The parent's crop, remembered for the boxes of this call.

        Why remember it: the parent's ``transform`` draws the crop and
        applies it in one method; recording the draw keeps its image code
        and its random stream as they are, instead of copying them.
        """
        self._last_crop = super().rand_crop_params(img)
        return self._last_crop

    def transform(self, results: dict) -> dict:
        """Check the boxes (:func:`checked_boxes`), crop and resize the
        image (parent), then the boxes; boxes cropped away are dropped and
        counted (:func:`drop_empty_boxes`)."""
        has_boxes = checked_boxes(results)
        results = super().transform(results)
        if has_boxes:
            offset_h, offset_w, target_h, target_w = self._last_crop
            results['gt_bboxes'] = crop_and_scale_boxes(
                results['gt_bboxes'], (offset_w, offset_h, target_w,
                                       target_h), results['img'].shape[:2])
            drop_empty_boxes(results)
        return results


def _box_tensors(results: dict) -> Optional[Tuple[torch.Tensor,
                                                   torch.Tensor]]:
    """``gt_bboxes`` (K, 4) float32 and ``gt_bboxes_labels`` (K,) int64 of a
    sample as tensors, checked (:func:`checked_boxes`,
    :func:`check_boxes_inside`), empty ones dropped and counted; None if it
    has no boxes."""
    if not checked_boxes(results):
        return None
    boxes = torch.as_tensor(np.asarray(results['gt_bboxes']),
                            dtype=torch.float32)
    check_boxes_inside(boxes, results.get('img_shape'), results)
    drop_empty_boxes(results)
    return (torch.as_tensor(np.asarray(results['gt_bboxes']),
                            dtype=torch.float32),
            torch.as_tensor(np.asarray(results['gt_bboxes_labels']),
                            dtype=torch.int64))


def check_boxes_inside(boxes: torch.Tensor, img_shape: Optional[tuple],
                       results: dict) -> None:
    """Refuse boxes that reach outside the image they are packed with.

    The geometric transforms that move boxes keep them inside the image
    (flips, resizes and crops clip them), so a box outside it means that a
    step moved the image alone: the boxes no longer match the pixels and
    the model would learn from wrong patches.

    Args:
        boxes (Tensor): (K, 4) xyxy boxes.
        img_shape (tuple, optional): ``(h, w)`` of the image (no check if
            None).
        results (dict): The sample, to name its image and the box's
            annotation (:func:`~mmcma.datasets.boxes.box_name`).

    Raises:
        ValueError: if a box reaches more than :data:`BORDER_TOLERANCE`
            pixels past the image.
    """
    if img_shape is None or not len(boxes):
        return
    height, width = (float(s) for s in img_shape[:2])
    limit = torch.tensor([0., 0., width, height])
    over = torch.cat([-boxes[:, :2], boxes[:, 2:]], dim=1) - \
        torch.cat([-limit[:2], limit[2:]])
    if (over > BORDER_TOLERANCE).any():
        k = int(over.max(dim=1).values.argmax())
        worst = boxes[k].tolist()
        raise ValueError(
            f'{results.get("img_path", "a sample")}: gt_bboxes reach outside '
            f'the {width:g} x {height:g} image (e.g. '
            f'{[round(v, 1) for v in worst]}, {box_name(results, k)}): a '
            'step moved the '
            "image but not the boxes? mmpretrain's RandomResizedCrop, "
            'RandomCrop and ResizeEdge move the image only: use '
            "BoxRandomResizedCrop, or mmcv's Resize, RandomFlip, CenterCrop")


@TRANSFORMS.register_module()
class PackInputsWithBoxes(PackInputs):
    """mmpretrain's ``PackInputs`` that also packs the instance boxes.

    The data sample gets ``gt_bboxes`` (K, 4) float32 and
    ``gt_bboxes_labels`` (K,) int64 tensors (moved to the device with the
    rest of the sample), next to ``gt_label`` and the meta keys
    (``img_shape`` among them, which the spatial-context head uses to clip
    boxes). A sample without boxes is packed as ``PackInputs`` does; a
    model that needs boxes then says so.
    """

    def transform(self, results: dict) -> dict:
        boxes = _box_tensors(results)
        packed = super().transform(results)
        if boxes is not None:
            for key, value in zip(BOX_KEYS, boxes):
                packed['data_samples'].set_field(value, key)
            packed['data_samples'].set_metainfo(
                dict(gt_bboxes_dropped=results['gt_bboxes_dropped']))
        return packed
