"""The patches the inferencer reports and draws: one per label."""
from typing import NamedTuple

import torch
from torch import Tensor


class LabelPatches(NamedTuple):
    """The best patch of each of an image's best labels, best first."""
    boxes: Tensor  # (k, 4) object patches (regressed), x0 y0 x1 y1
    context_boxes: Tensor  # (k, 4) their context patches
    labels: Tensor  # (k,) int64, distinct
    scores: Tensor  # (k,) the patch's score for its label


def best_patch_per_label(found, k: int) -> LabelPatches:
    """For each label its best-scoring patch; the ``k`` labels whose best
    patch scores highest, best first (ties: lower label first).

    One patch per label, so a figure shows ``k`` different labels instead
    of one label's overlapping patches. The best patch of a label is also
    the first that :func:`~mmcma.models.roi_heads.top_patches` keeps
    for it (per-label NMS never suppresses a label's best patch).

    Args:
        found: One image's ``model.predict_patches`` output, with ``boxes``
            (P, 4), ``context_boxes`` (P, 4) and ``scores`` (P, N).
        k (int): Number of labels (fewer if the image has fewer labels or
            no patch).

    Returns:
        LabelPatches: On the CPU.
    """
    scores = found.scores.detach().float().cpu()
    if scores.numel() == 0:
        empty = torch.zeros(0, 4)
        return LabelPatches(empty, empty.clone(),
                            torch.zeros(0, dtype=torch.long), torch.zeros(0))
    best, patch = scores.max(dim=0)  # (N,) per label
    labels = torch.sort(best, descending=True, stable=True).indices[:k]
    patch = patch[labels]
    return LabelPatches(found.boxes.detach().float().cpu()[patch],
                        found.context_boxes.detach().float().cpu()[patch],
                        labels, best[labels])
