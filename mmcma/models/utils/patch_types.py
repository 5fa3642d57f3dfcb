"""Named types passed between the stages of the spatial-context network.

Boxes are ``x0, y0, x1, y1`` pixels of the network input; per-image sets
are lists (one tensor per image), per-patch outputs of a batch are
concatenated over images in batch order with ``counts`` patches per image.
"""
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

from torch import Tensor


class ImagePyramid(NamedTuple):
    """Feature pyramid of a batch and the geometry of its images.

    ``maps`` go from the finest to the coarsest level, all with the same
    channels; ``batch_shape`` is the (padded) input ``(H, W)``;
    ``image_sizes`` the ``(h, w)`` of each image inside it (its
    ``img_shape``), used to clip boxes.
    """
    maps: Tuple[Tensor, ...]  # each (B, C, H_l, W_l)
    batch_shape: Tuple[int, int]
    image_sizes: List[Tuple[int, int]]


class GroundTruth(NamedTuple):
    """Instance boxes of one image (already filtered by size)."""
    boxes: Tensor  # (K, 4) float
    labels: Tensor  # (K,) int64


class Proposals(NamedTuple):
    """Object patches of patch generator 1, and its own losses."""
    boxes: List[Tensor]  # per image (P_i, 4)
    losses: Dict[str, Tensor]  # empty when not trained from boxes


class Patches(NamedTuple):
    """Object patches and their context patches (patch generator 2).

    ``is_proposal`` marks the generator's patches, as opposed to ground
    truth boxes added to them during training; only proposals enter the
    image-level scores (test time has no ground truth).
    """
    object_boxes: List[Tensor]  # per image (P_i, 4)
    context_boxes: List[Tensor]  # per image (P_i, 4)
    is_proposal: List[Tensor]  # per image (P_i,) bool

    @property
    def counts(self) -> List[int]:
        return [len(b) for b in self.object_boxes]


class PatchOutputs(NamedTuple):
    """The four processors' outputs for every patch of a batch."""
    deltas: Tensor  # (P, 4) location regressor, encoded box offsets
    objectness: Tensor  # (P,) patch classifier logit
    object_logits: Tensor  # (P, N) object-branch label predictor
    context_logits: Tensor  # (P, N) context-branch label predictor


class PatchTargets(NamedTuple):
    """Training targets of every patch of a batch (from IoU matching).

    ``objectness`` is 1 (IoU with a ground-truth box >= the foreground
    threshold), 0 (below the background threshold) or -1 (in between:
    ignored). ``deltas`` and ``labels`` are meaningful where ``objectness``
    is 1. ``sampled`` marks the patches the losses use.
    """
    objectness: Tensor  # (P,) float in {1, 0, -1}
    deltas: Tensor  # (P, 4) encoded offsets to the matched box
    labels: Tensor  # (P, N) one-hot label of the matched box
    sampled: Tensor  # (P,) bool


class PatchPredictions(NamedTuple):
    """Test-time patches of one image and their scores, for inspection.

    ``boxes`` are the object patches after the location regressor,
    ``context_boxes`` the context patches the context label predictor
    classified (expanded from ``boxes``, or from ``proposals`` with
    ``SpatialContextHead(refine='none')``), ``scores[p, k]`` the patch's
    score for label k (what the image-level score aggregates).
    """
    proposals: Tensor  # (P, 4) object patches as proposed
    boxes: Tensor  # (P, 4) regressed object boxes
    context_boxes: Tensor  # (P, 4) context patches classified
    objectness: Tensor  # (P,) probability
    scores: Tensor  # (P, N)


class TopPatches(NamedTuple):
    """The best patches of one image (:func:`top_patches`)."""
    boxes: Tensor  # (k, 4) regressed object boxes
    context_boxes: Tensor  # (k, 4)
    labels: Tensor  # (k,) int64
    scores: Tensor  # (k,)


class LossWeights(NamedTuple):
    """Weights of the losses of :class:`SpatialContextHead`."""
    image: float = 1.0
    location: float = 1.0
    patch: float = 1.0
    object_label: float = 1.0
    context_label: float = 1.0
    proposal: float = 1.0



def named_config(cls, cfg: Optional[Mapping[str, Any]], what: str):
    """``cls(**cfg)`` for a config ``NamedTuple`` ``cls`` (missing fields
    take its defaults; None is all defaults), an unknown key a ValueError
    naming ``what`` and the fields it takes."""
    cfg = dict(cfg or {})
    unknown = set(cfg) - set(cls._fields)
    if unknown:
        raise ValueError(f'{what} takes {", ".join(cls._fields)}; got '
                         f'unknown {", ".join(sorted(unknown))}')
    return cls(**cfg)
