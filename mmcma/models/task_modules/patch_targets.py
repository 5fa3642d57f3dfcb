"""Training targets of the patches: assign, encode, sample."""
from typing import Sequence, Tuple

import torch
from torch import Tensor

from ..utils.patch_types import GroundTruth, PatchTargets
from .balanced_sampler import BalancedRandomSampler
from .delta_box_coder import DeltaXYWHBoxCoder
from .max_iou_assigner import IGNORED, MaxIoUAssigner


def match_patches(patches: Tensor, gt: GroundTruth, num_classes: int,
                  assigner: MaxIoUAssigner,
                  coder: DeltaXYWHBoxCoder) -> Tuple[Tensor, Tensor, Tensor]:
    """Targets of the patches of one image.

    A patch the assigner matches to a box is an object patch (objectness
    1) with that box's offsets and label; a background patch has objectness
    0, an ignored one -1. An image without boxes has only background
    patches.

    Args:
        patches (Tensor): (P, 4) object patches.
        gt (GroundTruth): (K, 4) boxes and (K,) labels.
        num_classes (int): Number of labels N.
        assigner (MaxIoUAssigner): Matches patches to boxes.
        coder (DeltaXYWHBoxCoder): Encodes the offsets.

    Returns:
        tuple: objectness (P,) float in {1, 0, -1}, offsets (P, 4) (zero
        for non-object patches), one-hot labels (P, N) (zero rows for
        non-object patches).
    """
    # Targets in float32 whatever the patches' precision (under autocast the
    # RPN's patches may be float16 or bfloat16, the boxes float32).
    patches = patches.float()
    num = patches.shape[0]
    objectness = patches.new_zeros(num)
    deltas = patches.new_zeros(num, 4)
    labels = patches.new_zeros(num, num_classes)
    if num == 0 or gt.boxes.shape[0] == 0:
        return objectness, deltas, labels
    matched = assigner.assign(patches, gt.boxes)
    objectness[matched == IGNORED] = -1
    positive = torch.nonzero(matched >= 0).squeeze(1)
    index = matched[positive]
    objectness[positive] = 1
    deltas[positive] = coder.encode(gt.boxes[index], patches[positive])
    labels[positive, gt.labels[index]] = 1
    return objectness, deltas, labels


def patch_targets(patches: Sequence[Tensor], gts: Sequence[GroundTruth],
                  num_classes: int, assigner: MaxIoUAssigner,
                  sampler: BalancedRandomSampler,
                  coder: DeltaXYWHBoxCoder) -> PatchTargets:
    """Targets and sampled patches of a batch, concatenated over images.

    Args:
        patches (Sequence[Tensor]): Per image (P_i, 4) object patches.
        gts (Sequence[GroundTruth]): Per image ground truth.
        num_classes, assigner, coder: See :func:`match_patches`.
        sampler (BalancedRandomSampler): Draws the patches the losses use,
            image by image (after all images are matched).

    Returns:
        PatchTargets: Each field concatenated over the images.
    """
    matched = [
        match_patches(p, gt, num_classes, assigner, coder)
        for p, gt in zip(patches, gts)
    ]
    objectness, deltas, labels = (list(x) for x in zip(*matched))
    sampled = [sampler.sample(t) for t in objectness]
    return PatchTargets(
        torch.cat(objectness), torch.cat(deltas), torch.cat(labels),
        torch.cat(sampled))
