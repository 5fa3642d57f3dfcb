"""Image-level logits from the patches (and an optional image branch)."""
from typing import List, NamedTuple, Optional

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ..utils.patch_types import ImagePyramid, PatchOutputs, named_config
from .patch_scores import (COMBINE, IMAGE_COMBINE, image_logits,
                           patch_log_scores, patch_scores,
                           pooled_image_features)


class ImageBranchConfig(NamedTuple):
    """``image_branch`` of :class:`PatchAggregator`: a linear label
    predictor on :func:`~.patch_scores.pooled_image_features`
    (``in_channels`` = levels x pyramid channels; the head fills it in),
    joined to the pooled patch score as :data:`~.patch_scores.IMAGE_COMBINE`
    names (``join``: ``'sum'`` or ``'mean'``)."""
    in_channels: Optional[int] = None
    join: str = 'sum'


@MODELS.register_module()
class PatchAggregator(BaseModule):
    """Per-patch label scores pooled into image-level logits.

    A patch's score for label k is its objectness times its label
    probability, the two branches combined as ``combine`` names
    (:func:`~.patch_scores.patch_log_scores`); an image's logit for k pools
    the ``topk`` best proposal scores (:func:`~.patch_scores.image_logits`,
    1: the maximum). With ``image_branch``, an image-level label predictor
    joins the pooled score (meant for the weakly supervised mode,
    docs/spatial_context.md; the slides describe no image-level branch).

    Args:
        num_classes (int): Number of labels N.
        combine (str): Branch combination, a key of
            :data:`~.patch_scores.COMBINE`.
        topk (int): Patches pooled per label, >= 1.
        image_branch (dict, optional): :class:`ImageBranchConfig`; None
            (default): the patches alone.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 combine: str = 'mean',
                 topk: int = 1,
                 image_branch: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if combine not in COMBINE:
            raise ValueError(f'combine must be one of {sorted(COMBINE)}, '
                             f'got {combine!r}')
        if topk < 1:
            raise ValueError(f'topk must be at least 1, got {topk}')
        self.combine = combine
        self.topk = topk
        self.image_join = None
        self.image_classifier = None
        if image_branch is not None:
            branch = named_config(ImageBranchConfig, image_branch,
                                  'image_branch')
            if branch.join not in IMAGE_COMBINE:
                raise ValueError(
                    f'image_branch join must be one of '
                    f'{sorted(IMAGE_COMBINE)}, got {branch.join!r}')
            if branch.in_channels is None:
                raise ValueError('image_branch needs in_channels (pyramid '
                                 'levels x channels)')
            self.image_join = branch.join
            self.image_classifier = nn.Linear(branch.in_channels,
                                              num_classes)

    def patch_scores(self, outputs: PatchOutputs) -> Tensor:
        """Patch scores in [0, 1], (P, N)."""
        return patch_scores(outputs.objectness, outputs.object_logits,
                            outputs.context_logits, self.combine)

    def patch_logits(self, outputs: PatchOutputs,
                     is_proposal: List[Tensor]) -> Tensor:
        """Pooled patch logits (B, N) over each image's proposals
        (``is_proposal``: per image (P_i,) bool; ground-truth patches added
        in training are left out)."""
        log_s, log_not_s = patch_log_scores(
            outputs.objectness, outputs.object_logits, outputs.context_logits,
            self.combine)
        keep = torch.cat(is_proposal)
        counts = [int(m.sum()) for m in is_proposal]
        return image_logits(log_s[keep], log_not_s[keep], counts, self.topk)

    def image_branch_logits(self, pyramid: ImagePyramid) -> Tensor:
        """The image branch's logits (B, N) (it must exist)."""
        return self.image_classifier(pooled_image_features(pyramid))

    def forward(self, outputs: PatchOutputs, is_proposal: List[Tensor],
                pyramid: ImagePyramid) -> Tensor:
        """Image-level logits (B, N): the pooled patch logits, joined with
        the image branch's if there is one."""
        logits = self.patch_logits(outputs, is_proposal)
        if self.image_classifier is None:
            return logits
        return IMAGE_COMBINE[self.image_join](
            logits, self.image_branch_logits(pyramid))
