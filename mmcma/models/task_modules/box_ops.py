"""Box geometry of the spatial-context network, as plain tensor functions.

Boxes are ``(K, 4)`` ``x0, y0, x1, y1`` pixels. Offsets are encoded and
decoded by a box coder (:class:`~.delta_box_coder.DeltaXYWHBoxCoder`).
"""
from typing import List, Sequence, Tuple

import torch
from torch import Tensor
from torchvision.ops import clip_boxes_to_image, remove_small_boxes

from ..utils.patch_types import GroundTruth
from .delta_box_coder import DeltaXYWHBoxCoder


def regress_boxes(boxes: Sequence[Tensor], deltas: Tensor,
                  image_sizes: Sequence[Tuple[int, int]],
                  coder: DeltaXYWHBoxCoder) -> List[Tensor]:
    """The location regressor's boxes: offsets applied, clipped per image.

    Args:
        boxes (Sequence[Tensor]): Per image (P_i, 4) object patches.
        deltas (Tensor): Their offsets, concatenated over the images,
            (sum P_i, 4).
        image_sizes (Sequence[tuple]): ``(H, W)`` of each image.
        coder (DeltaXYWHBoxCoder): The box coder of the offsets.

    Returns:
        list: Per image (P_i, 4) boxes (``coder.decode``), clipped to
        the image.
    """
    counts = [len(b) for b in boxes]
    if not sum(counts):
        return [b.new_zeros(0, 4) for b in boxes]
    decoded = coder.decode(deltas, torch.cat(list(boxes)))
    return [
        clip_boxes_to_image(b, tuple(size))
        for b, size in zip(decoded.split(counts), image_sizes)
    ]


def expand_boxes(boxes: Tensor, scale: float,
                 image_size: Tuple[int, int]) -> Tensor:
    """Context patches: boxes scaled about their centre, clipped to the image.

    A box of size ``(w, h)`` becomes ``(scale w, scale h)`` with the same
    centre, then is clipped to ``[0, W] x [0, H]`` (so near a border it
    grows on the inner side only).

    Args:
        boxes (Tensor): Object patches, (K, 4).
        scale (float): Side-length factor, >= 1 (1 gives the object patch).
        image_size (tuple): ``(H, W)`` of the image.

    Returns:
        Tensor: Context patches of shape (K, 4).
    """
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * (scale / 2)
    expanded = torch.cat([centre - half, centre + half], dim=1)
    return clip_boxes_to_image(expanded, tuple(image_size))


def valid_gt(boxes: Tensor, labels: Tensor, min_size: float) -> GroundTruth:
    """Ground-truth boxes with width and height of at least ``min_size``.

    Boxes that a crop pushed out of the image (zero width or height) or
    that are degenerate in the annotations cannot be matched by IoU; they
    are dropped with their labels.

    Args:
        boxes (Tensor): (K, 4) boxes.
        labels (Tensor): (K,) label indices.
        min_size (float): Smallest side kept, in pixels.

    Returns:
        GroundTruth: The kept boxes (float) and labels (int64).
    """
    keep = remove_small_boxes(boxes, min_size)
    return GroundTruth(boxes[keep].float(), labels[keep].long())


def pyramid_strides(maps: Sequence[Tensor],
                    batch_shape: Tuple[int, int]) -> List[int]:
    """The stride of each pyramid level, checked to be exact powers of 2.

    Anchors (torchvision's ``AnchorGenerator``) and RoIAlign scales
    (``MultiScaleRoIAlign``) are derived from ``batch size / map size``,
    which is only exact when the input is a multiple of the coarsest
    stride.

    Args:
        maps (Sequence[Tensor]): Pyramid levels (B, C, H_l, W_l), fine to
            coarse.
        batch_shape (tuple): Input ``(H, W)``.

    Returns:
        list: One stride per level.

    Raises:
        ValueError: if a level does not divide the input exactly by a power
            of 2, naming the fix (pad the batch).
    """
    strides = []
    for level, feat in enumerate(maps):
        size = tuple(feat.shape[-2:])
        stride = batch_shape[0] // max(size[0], 1)
        exact = (stride >= 1 and stride & (stride - 1) == 0
                 and size[0] * stride == batch_shape[0]
                 and size[1] * stride == batch_shape[1])
        if not exact:
            raise ValueError(
                f'pyramid level {level} is {size} for an input of '
                f'{tuple(batch_shape)}: the input must be a multiple of the '
                'coarsest stride; pad the batch with the data preprocessor '
                '(pad_size_divisor=32 for a ResNet) or resize the images')
        strides.append(stride)
    if any(b != 2 * a for a, b in zip(strides, strides[1:])):
        raise ValueError(f'pyramid strides {strides} must double from one '
                         'level to the next')
    return strides
