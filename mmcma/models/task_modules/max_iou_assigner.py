"""Assign patches to ground-truth boxes by their largest IoU.

Written here because torchvision keeps its ``Matcher`` in the private
``torchvision.models.detection._utils``; the IoU is torchvision's public
``box_iou``.
"""
import torch
from mmpretrain.registry import TASK_UTILS
from torch import Tensor
from torchvision.ops import box_iou

#: :meth:`MaxIoUAssigner.assign`'s codes for unmatched patches.
BACKGROUND = -1
IGNORED = -2


@TASK_UTILS.register_module()
class MaxIoUAssigner:
    """Each patch to the box it overlaps most, if it overlaps it enough.

    IoU >= ``pos_iou`` with its best box: the patch is matched to that box
    (its index); IoU < ``neg_iou`` with every box: background
    (:data:`BACKGROUND`); in between: ignored (:data:`IGNORED`). No
    low-quality matches (a box that no patch reaches stays unmatched). Ties
    go to the first box.

    Args:
        pos_iou (float): Foreground threshold.
        neg_iou (float): Background threshold, <= ``pos_iou``.
    """

    def __init__(self, pos_iou: float = 0.5, neg_iou: float = 0.5):
        if not 0 <= neg_iou <= pos_iou:
            raise ValueError(f'need 0 <= neg_iou <= pos_iou, got neg_iou='
                             f'{neg_iou}, pos_iou={pos_iou}')
        self.pos_iou = pos_iou
        self.neg_iou = neg_iou

    def assign(self, patches: Tensor, gt_boxes: Tensor) -> Tensor:
        """Matches (P,) int64 of ``patches`` (P, 4) to ``gt_boxes`` (K, 4):
        a box index, :data:`BACKGROUND` or :data:`IGNORED` (all background
        when K is 0)."""
        if gt_boxes.shape[0] == 0:
            return patches.new_full((patches.shape[0], ), BACKGROUND,
                                    dtype=torch.int64)
        best, index = box_iou(gt_boxes, patches).max(dim=0)
        index[best < self.pos_iou] = IGNORED
        index[best < self.neg_iou] = BACKGROUND
        return index

