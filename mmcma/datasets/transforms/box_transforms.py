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

Empty boxes (cropped away, or zero-sized in the annotations) are kept here,
with their labels in step; the model ignores boxes smaller than its
``min_box_size`` (:func:`mmcma.models.spatial_context.valid_gt`).
"""
from typing import Optional, Tuple

import numpy as np
import torch
from mmpretrain.datasets.transforms import PackInputs, RandomResizedCrop
from mmpretrain.registry import TRANSFORMS

BOX_KEYS = ('gt_bboxes', 'gt_bboxes_labels')


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
        """Crop and resize the image (parent), then the boxes."""
        results = super().transform(results)
        if results.get('gt_bboxes') is not None:
            offset_h, offset_w, target_h, target_w = self._last_crop
            results['gt_bboxes'] = crop_and_scale_boxes(
                results['gt_bboxes'], (offset_w, offset_h, target_w,
                                       target_h), results['img'].shape[:2])
        return results


def _box_tensors(results: dict) -> Optional[Tuple[torch.Tensor,
                                                   torch.Tensor]]:
    """``gt_bboxes`` (K, 4) float32 and ``gt_bboxes_labels`` (K,) int64 of a
    sample as tensors, or None if it has no boxes."""
    present = [key in results and results[key] is not None
               for key in BOX_KEYS]
    where = results.get('img_path', 'a sample')
    if not any(present):
        return None
    if not all(present):
        raise ValueError(f'{where}: gt_bboxes and gt_bboxes_labels come '
                         'together, got only one of them')
    boxes = torch.as_tensor(np.asarray(results['gt_bboxes']),
                            dtype=torch.float32)
    labels = torch.as_tensor(np.asarray(results['gt_bboxes_labels']),
                             dtype=torch.int64)
    if boxes.dim() != 2 or boxes.shape[1] != 4 or labels.shape != (
            boxes.shape[0], ):
        raise ValueError(
            f'{where}: gt_bboxes must be (K, 4) and gt_bboxes_labels (K,), '
            f'got {tuple(boxes.shape)} and {tuple(labels.shape)}')
    if not torch.isfinite(boxes).all():
        raise ValueError(f'{where}: gt_bboxes holds NaN or infinite values')
    check_boxes_inside(boxes, results.get('img_shape'), where)
    return boxes, labels


#: Pixels a box may reach past the image border before
#: :func:`check_boxes_inside` refuses it (rounding in annotations).
BORDER_TOLERANCE = 1.0


def check_boxes_inside(boxes: torch.Tensor, img_shape: Optional[tuple],
                       where: str) -> None:
    """Refuse boxes that reach outside the image they are packed with.

    The geometric transforms that move boxes keep them inside the image
    (flips, resizes and crops clip them), so a box outside it means that a
    step moved the image alone: the boxes no longer match the pixels and
    the model would learn from wrong patches.

    Args:
        boxes (Tensor): (K, 4) xyxy boxes.
        img_shape (tuple, optional): ``(h, w)`` of the image (no check if
            None).
        where (str): Names the sample in the error.

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
        worst = boxes[over.max(dim=1).values.argmax()].tolist()
        raise ValueError(
            f'{where}: gt_bboxes reach outside the {width:g} x {height:g} '
            f'image (e.g. {[round(v, 1) for v in worst]}): a step moved the '
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
        packed = super().transform(results)
        boxes = _box_tensors(results)
        if boxes is not None:
            for key, value in zip(BOX_KEYS, boxes):
                packed['data_samples'].set_field(value, key)
        return packed
