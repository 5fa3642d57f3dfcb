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
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.fileio import get
from mmpretrain.datasets.categories import VOC2007_CATEGORIES
from mmpretrain.datasets.transforms import PackInputs, RandomResizedCrop
from mmpretrain.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from ..boxes import BoxAnnotationError, parse_voc_boxes

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


@TRANSFORMS.register_module()
class LoadVOCBoxes(BaseTransform):
    """Read the object boxes of a VOC image from its annotation xml.

    Put it after ``LoadImageFromFile`` in a pipeline of mmpretrain's
    ``VOC`` dataset (or any dataset whose ``img_path`` is
    ``<root>/JPEGImages/<id>.jpg``). The xml is
    ``<root>/<ann_folder>/<id>.xml`` (:func:`parse_voc_boxes`).

    Args:
        ann_folder (str): Annotation folder, a sibling of the image folder.
            Defaults to ``'Annotations'``.
        classes (Sequence[str]): Class names in label order. Defaults to the
            20 VOC classes (mmpretrain's ``VOC2007_CATEGORIES``).
        difficult (str): ``'ignore'`` (default) drops difficult objects, as
            mmpretrain's ``VOC`` leaves them out of ``gt_label``;
            ``'include'`` keeps them.
    """

    def __init__(self,
                 ann_folder: str = 'Annotations',
                 classes: Sequence[str] = VOC2007_CATEGORIES,
                 difficult: str = 'ignore'):
        self.ann_folder = ann_folder
        self.class_to_idx: Dict[str, int] = {
            name: i
            for i, name in enumerate(classes)
        }
        if difficult not in ('ignore', 'include'):
            raise ValueError(f"difficult must be 'ignore' or 'include', got "
                             f'{difficult!r}')
        self.difficult = difficult

    def xml_path(self, img_path: str) -> str:
        """The annotation file of ``img_path``."""
        image_dir, name = osp.split(img_path)
        return osp.join(
            osp.dirname(image_dir), self.ann_folder,
            osp.splitext(name)[0] + '.xml')

    def transform(self, results: dict) -> dict:
        """Add ``gt_bboxes`` and ``gt_bboxes_labels``."""
        path = self.xml_path(results['img_path'])
        try:
            content = get(path)
        except FileNotFoundError as e:
            raise BoxAnnotationError(
                f'annotation file not found: {path} (boxes of '
                f'{results["img_path"]})') from e
        results['gt_bboxes'], results['gt_bboxes_labels'] = parse_voc_boxes(
            content, self.class_to_idx, path, self.difficult)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(ann_folder={self.ann_folder!r}, '
                f'difficult={self.difficult!r})')


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
    return boxes, labels


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
