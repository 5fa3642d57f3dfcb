"""From patch outputs to image-level label scores, and the best patches.

A patch's score for label k is its objectness times its label
probability, the two branches combined (:func:`patch_scores`); an image's
score for k pools these over its patches (:func:`image_scores`, the maximum
by default: an image shows k if one of its patches does).
"""
from typing import Callable, Dict, Sequence

import torch
from torch import Tensor
from torchvision.ops import batched_nms

from .types import PatchPredictions, TopPatches

#: How the object- and context-branch probabilities of a patch combine.
COMBINE: Dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    'mean': lambda obj, ctx: (obj + ctx) / 2,
    'product': lambda obj, ctx: obj * ctx,
    'object': lambda obj, ctx: obj,
    'context': lambda obj, ctx: ctx,
}


def patch_scores(objectness: Tensor,
                 object_logits: Tensor,
                 context_logits: Tensor,
                 combine: str = 'mean') -> Tensor:
    """Per-patch label scores ``sigma(o) * combine(sigma(y_obj),
    sigma(y_ctx))``.

    Args:
        objectness (Tensor): Patch classifier logits, (P,).
        object_logits (Tensor): Object-branch label logits, (P, N).
        context_logits (Tensor): Context-branch label logits, (P, N).
        combine (str): A key of :data:`COMBINE`: ``'mean'`` (default),
            ``'product'``, or one branch alone (``'object'``,
            ``'context'``: ablations).

    Returns:
        Tensor: Scores in [0, 1], shape (P, N).
    """
    if combine not in COMBINE:
        raise ValueError(f'combine must be one of {sorted(COMBINE)}, got '
                         f'{combine!r}')
    return objectness.sigmoid()[:, None] * COMBINE[combine](
        object_logits.sigmoid(), context_logits.sigmoid())


def image_scores(scores: Tensor, counts: Sequence[int],
                 topk: int = 1) -> Tensor:
    """Image-level scores: per label, the mean of the ``topk`` best patch
    scores of the image (``topk=1``: the maximum).

    An image with fewer patches averages those it has; an image without
    patches scores 0 for every label.

    Args:
        scores (Tensor): Patch scores of a batch, (P, N), images in order.
        counts (Sequence[int]): Patches per image, summing to P.
        topk (int): Patches pooled per label, >= 1.

    Returns:
        Tensor: Scores of shape (B, N).
    """
    if topk < 1:
        raise ValueError(f'topk must be at least 1, got {topk}')
    rows = []
    for image in scores.split(list(counts)):
        if image.shape[0] == 0:
            rows.append(scores.new_zeros(scores.shape[1]))
        else:
            k = min(topk, image.shape[0])
            rows.append(image.topk(k, dim=0).values.mean(dim=0))
    return torch.stack(rows) if rows else scores.new_zeros(0, scores.shape[1])


def top_patches(pred: PatchPredictions,
                k: int = 5,
                nms_iou: float = 0.5,
                score_thr: float = 0.0) -> TopPatches:
    """The ``k`` best (patch, label) pairs of one image, for drawing.

    Every patch is a candidate for every label with its score
    ``pred.scores[p, label]``; candidates below ``score_thr`` are dropped,
    overlapping candidates of the same label are suppressed (NMS at
    ``nms_iou`` on the regressed boxes), and the ``k`` best remain, best
    first.

    Args:
        pred (PatchPredictions): Patches of one image.
        k (int): Number of pairs returned (fewer if fewer remain).
        nms_iou (float): IoU above which a same-label pair is suppressed.
        score_thr (float): Lowest score kept.

    Returns:
        TopPatches: Regressed boxes (k, 4), their context patches (k, 4),
        labels (k,) and scores (k,).
    """
    num_patches, num_classes = pred.scores.shape
    scores = pred.scores.flatten()
    device = scores.device
    patch = torch.arange(num_patches, device=device).repeat_interleave(
        num_classes)
    label = torch.arange(num_classes, device=device).repeat(num_patches)
    keep = torch.nonzero(scores >= score_thr).squeeze(1)
    keep = keep[batched_nms(pred.boxes[patch[keep]].float(),
                            scores[keep].float(), label[keep], nms_iou)]
    keep = keep[:k]
    return TopPatches(pred.boxes[patch[keep]], pred.context_boxes[patch[keep]],
                      label[keep], scores[keep])
