"""Patch generator 2: context patches about the object patches."""
from typing import List, Sequence, Tuple

from mmpretrain.registry import MODELS
from torch import Tensor

from ..task_modules.box_ops import expand_boxes
from ..utils.patch_types import Patches


@MODELS.register_module()
class ContextPatchGenerator:
    """Each object patch scaled by ``scale`` (width and height) about its
    centre, clipped to the image (:func:`~..task_modules.expand_boxes`).
    No parameters.

    Args:
        scale (float): Side-length factor, >= 1 (context patches contain
            their object).
    """

    def __init__(self, scale: float = 2.0):
        if scale < 1:
            raise ValueError(f'context scale must be >= 1 (context patches '
                             f'contain their object), got {scale}')
        self.scale = scale

    def __call__(self, boxes: Sequence[Tensor],
                 is_proposal: List[Tensor],
                 image_sizes: Sequence[Tuple[int, int]]) -> Patches:
        """Per-image object patches (P_i, 4) with their context patches."""
        context = [
            expand_boxes(b, self.scale, size)
            for b, size in zip(boxes, image_sizes)
        ]
        return Patches(list(boxes), context, is_proposal)
