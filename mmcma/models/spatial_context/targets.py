"""Training targets of the patches: IoU matching to ground-truth boxes."""
from typing import List, Sequence, Tuple

import torch
from torch import Tensor
from torchvision.models.detection._utils import (
    BalancedPositiveNegativeSampler, Matcher)
from torchvision.ops import box_iou

from .box_ops import encode_boxes
from .types import GroundTruth, PatchTargets


def match_patches(patches: Tensor, gt: GroundTruth, num_classes: int,
                  fg_iou: float, bg_iou: float,
                  weights: Sequence[float]) -> Tuple[Tensor, Tensor, Tensor]:
    """Targets of the patches of one image.

    Each patch is matched to the ground-truth box it overlaps most
    (torchvision's ``Matcher``, no low-quality matches): IoU >= ``fg_iou``
    makes it an object patch (objectness 1) with that box's offsets and
    label; IoU < ``bg_iou`` background (0); in between ignored (-1). An
    image without boxes has only background patches.

    Args:
        patches (Tensor): (P, 4) object patches.
        gt (GroundTruth): (K, 4) boxes and (K,) labels.
        num_classes (int): Number of labels N.
        fg_iou (float): Foreground IoU threshold.
        bg_iou (float): Background IoU threshold (<= ``fg_iou``).
        weights (Sequence[float]): Box coder weights.

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
    matcher = Matcher(fg_iou, bg_iou)
    matched = matcher(box_iou(gt.boxes, patches))
    objectness[matched == matcher.BETWEEN_THRESHOLDS] = -1
    positive = torch.nonzero(matched >= 0).squeeze(1)
    index = matched[positive]
    objectness[positive] = 1
    deltas[positive] = encode_boxes(gt.boxes[index], patches[positive],
                                    weights)
    labels[positive, gt.labels[index]] = 1
    return objectness, deltas, labels


def sample_patches(objectness: Sequence[Tensor], num_samples: int,
                   positive_fraction: float) -> List[Tensor]:
    """Patches the losses use, per image (torchvision's balanced sampler).

    At most ``num_samples * positive_fraction`` object patches, and
    background patches up to ``num_samples``, drawn at random; ignored
    patches (objectness -1) are never drawn.

    Args:
        objectness (Sequence[Tensor]): Per image (P_i,) targets in
            {1, 0, -1}.
        num_samples (int): Patches per image.
        positive_fraction (float): Largest share of object patches.

    Returns:
        list: Per image (P_i,) bool masks.
    """
    sampler = BalancedPositiveNegativeSampler(num_samples, positive_fraction)
    positive, negative = sampler([t.long() for t in objectness])
    return [(p | n).bool() for p, n in zip(positive, negative)]


def patch_targets(patches: Sequence[Tensor], gts: Sequence[GroundTruth],
                  num_classes: int, fg_iou: float, bg_iou: float,
                  weights: Sequence[float], num_samples: int,
                  positive_fraction: float) -> PatchTargets:
    """Targets and sampled patches of a batch, concatenated over images.

    Args:
        patches (Sequence[Tensor]): Per image (P_i, 4) object patches.
        gts (Sequence[GroundTruth]): Per image ground truth.
        num_classes, fg_iou, bg_iou, weights: See :func:`match_patches`.
        num_samples, positive_fraction: See :func:`sample_patches`.

    Returns:
        PatchTargets: Each field concatenated over the images.
    """
    matched = [
        match_patches(p, gt, num_classes, fg_iou, bg_iou, weights)
        for p, gt in zip(patches, gts)
    ]
    objectness, deltas, labels = (list(x) for x in zip(*matched))
    sampled = sample_patches(objectness, num_samples, positive_fraction)
    return PatchTargets(
        torch.cat(objectness), torch.cat(deltas), torch.cat(labels),
        torch.cat(sampled))
