"""Instance boxes of a batch's data samples, checked, as ground truth."""
from typing import List, Sequence

from mmpretrain.structures import DataSample

from ..utils.patch_types import GroundTruth
from .box_ops import valid_gt


def _no_boxes_error(sample: DataSample, index: int) -> ValueError:
    where = sample.get('img_path', f'sample {index} of the batch')
    return ValueError(
        f'{where} has no gt_bboxes, but SpatialContextHead with a train_cfg '
        '(box supervision) trains its patch generator, location regressor, '
        'patch classifier and label predictors from instance boxes: load '
        'them (CocoMultiLabel or VOCMultiLabel with with_boxes=True) and '
        'pack them with PackInputsWithBoxes, or set train_cfg=None with an '
        'AnchorPatchGenerator (weakly supervised: image-level labels only)')


def ground_truth(data_samples: Sequence[DataSample], min_box_size: float,
                 num_classes: int) -> List[GroundTruth]:
    """Boxes and labels of each sample (``gt_bboxes`` (K, 4),
    ``gt_bboxes_labels`` (K,)), boxes with a side below ``min_box_size``
    dropped (:func:`~.box_ops.valid_gt`); a sample without boxes, or with a
    label outside ``0..num_classes - 1``, raises."""
    gts = []
    for i, sample in enumerate(data_samples):
        if 'gt_bboxes' not in sample or 'gt_bboxes_labels' not in sample:
            raise _no_boxes_error(sample, i)
        gt = valid_gt(sample.gt_bboxes, sample.gt_bboxes_labels,
                      min_box_size)
        if len(gt.labels) and not (0 <= int(gt.labels.min())
                                   and int(gt.labels.max()) < num_classes):
            raise ValueError(
                f'{sample.get("img_path", f"sample {i}")}: box labels '
                f'{gt.labels.tolist()} outside 0..{num_classes - 1}')
        gts.append(gt)
    return gts
