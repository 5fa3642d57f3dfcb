"""From patch outputs to image-level label scores, and the best patches.

A patch's score for label k is its objectness times its label
probability, the two branches combined (:func:`patch_log_scores`); an
image's score for k pools these over its patches (:func:`image_logits`, the
maximum by default: an image shows k if one of its patches does).

Everything is computed as ``log s`` and ``log(1 - s)`` from the logits
(mmcma's ``sigmoid_log_probabilities``): no probability is ever rounded to
0 or 1 and then logged, so saturated patches keep exact, non-zero
gradients; the image score leaves as the logit ``log s - log(1 - s)``.
"""
import math
from typing import Callable, Dict, Sequence, Tuple

import torch
from torch import Tensor
from torchvision.ops import batched_nms

from ..losses.weighted_bce import (mean_sigmoid_log_probabilities,
                                   sigmoid_log_probabilities)
from ..utils.patch_types import ImagePyramid, PatchPredictions, TopPatches

LogPair = Tuple[Tensor, Tensor]  # log p and log(1 - p)


def _product(object_logits: Tensor, context_logits: Tensor) -> LogPair:
    """``p = a b`` and ``1 - p = (1 - a) + a (1 - b)``, in log space."""
    log_a, log_not_a = sigmoid_log_probabilities(object_logits)
    log_b, log_not_b = sigmoid_log_probabilities(context_logits)
    return log_a + log_b, torch.logaddexp(log_not_a, log_a + log_not_b)


#: How the object- and context-branch label probabilities of a patch
#: combine: each maps the two branches' logits (P, N) to the log
#: probability pair of the combined label probability.
COMBINE: Dict[str, Callable[[Tensor, Tensor], LogPair]] = {
    'mean': lambda obj, ctx: mean_sigmoid_log_probabilities(
        torch.stack([obj, ctx]), dim=0),
    'product': _product,
    'object': lambda obj, ctx: sigmoid_log_probabilities(obj),
    'context': lambda obj, ctx: sigmoid_log_probabilities(ctx),
}

#: Image logit for an image without patches: probability 1e-6 for every
#: label (a bounded loss instead of an infinite one; no gradient).
EMPTY_LOGIT = math.log(1e-6 / (1 - 1e-6))


def patch_log_scores(objectness: Tensor,
                     object_logits: Tensor,
                     context_logits: Tensor,
                     combine: str = 'mean') -> LogPair:
    """Per-patch label scores ``s = sigma(o) * combine(sigma(y_obj),
    sigma(y_ctx))`` as ``log s`` and ``log(1 - s)``.

    ``1 - s = (1 - sigma(o)) + sigma(o) (1 - q)`` for the combined label
    probability q, so ``log(1 - s)`` comes from ``log sigma(-o)`` and
    ``log(1 - q)`` without subtracting from 1.

    Args:
        objectness (Tensor): Patch classifier logits, (P,).
        object_logits (Tensor): Object-branch label logits, (P, N).
        context_logits (Tensor): Context-branch label logits, (P, N).
        combine (str): A key of :data:`COMBINE`: ``'mean'`` (default),
            ``'product'``, or one branch alone (``'object'``,
            ``'context'``: ablations).

    Returns:
        tuple: ``log s`` and ``log(1 - s)``, each (P, N).
    """
    if combine not in COMBINE:
        raise ValueError(f'combine must be one of {sorted(COMBINE)}, got '
                         f'{combine!r}')
    log_q, log_not_q = COMBINE[combine](object_logits, context_logits)
    log_o, log_not_o = sigmoid_log_probabilities(objectness[:, None])
    return log_o + log_q, torch.logaddexp(log_not_o, log_o + log_not_q)


def patch_scores(objectness: Tensor,
                 object_logits: Tensor,
                 context_logits: Tensor,
                 combine: str = 'mean') -> Tensor:
    """The patch scores ``s`` in [0, 1], (P, N) (:func:`patch_log_scores`).
    """
    return patch_log_scores(objectness, object_logits, context_logits,
                            combine)[0].exp()


def image_logits(log_scores: Tensor, log_not_scores: Tensor,
                 counts: Sequence[int], topk: int = 1) -> Tensor:
    """Image-level logits: per label, the mean of the ``topk`` best patch
    scores of the image (``topk=1``: the maximum), as a logit.

    With ``S`` the k best patches of label k, ``p = mean_S s`` and
    ``1 - p = mean_S (1 - s)``, both taken as a ``logsumexp``; the logit is
    ``log p - log(1 - p)``. An image with fewer patches averages those it
    has; an image without patches gets :data:`EMPTY_LOGIT`.

    Args:
        log_scores (Tensor): ``log s`` of the patches of a batch, (P, N),
            images in order.
        log_not_scores (Tensor): ``log(1 - s)``, (P, N).
        counts (Sequence[int]): Patches per image, summing to P.
        topk (int): Patches pooled per label, >= 1.

    Returns:
        Tensor: Logits of shape (B, N); their sigmoid is the pooled score.
    """
    if topk < 1:
        raise ValueError(f'topk must be at least 1, got {topk}')
    rows = []
    for log_p, log_q in zip(log_scores.split(list(counts)),
                            log_not_scores.split(list(counts))):
        if log_p.shape[0] == 0:
            rows.append(log_p.new_full(log_p.shape[1:], EMPTY_LOGIT))
            continue
        k = min(topk, log_p.shape[0])
        best = log_p.topk(k, dim=0)
        log_k = math.log(k)
        rows.append((torch.logsumexp(best.values, 0) - log_k) -
                    (torch.logsumexp(log_q.gather(0, best.indices), 0) -
                     log_k))
    return torch.stack(rows)


def pooled_image_features(pyramid: ImagePyramid) -> Tensor:
    """Each image's pyramid averaged over its own area, levels concatenated.

    The mean of level ``l`` (stride ``s``) over the first
    ``ceil(h / s) x ceil(w / s)`` positions, for an image of ``(h, w)``
    inside the padded batch (the padding is left out).

    Args:
        pyramid (ImagePyramid): Levels (B, C, H_l, W_l), fine to coarse.

    Returns:
        Tensor: (B, L * C) features, level by level.
    """
    rows = []
    for i, (h, w) in enumerate(pyramid.image_sizes):
        levels = []
        for feat in pyramid.maps:
            stride = pyramid.batch_shape[0] // feat.shape[-2]
            levels.append(feat[i, :, :-(-h // stride), :-(-w // stride)]
                          .mean(dim=(1, 2)))
        rows.append(torch.cat(levels))
    return torch.stack(rows)


def _mean_of_probabilities(patch: Tensor, image: Tensor) -> Tensor:
    log_p, log_not_p = mean_sigmoid_log_probabilities(
        torch.stack([patch, image]), dim=0)
    return log_p - log_not_p


#: How the image-level branch joins the pooled patch score
#: (``PatchAggregator(image_branch=dict(join=...))``): each maps the pooled
#: patch logits and the image branch's logits, both (B, N), to the image
#: logits.
#: ``'sum'`` adds the logits (the two odds multiply), ``'mean'`` averages
#: the two probabilities.
IMAGE_COMBINE: Dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    'sum': lambda patch, image: patch + image,
    'mean': _mean_of_probabilities,
}


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
