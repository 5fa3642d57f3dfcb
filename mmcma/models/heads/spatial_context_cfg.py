"""``train_cfg`` and ``test_cfg`` of :class:`SpatialContextHead`, as named
configs with their defaults, and the modes they express."""
from typing import NamedTuple, Optional

from ..utils.patch_types import LossWeights, named_config

#: torchvision's RPN loss names -> the head's.
PROPOSAL_LOSSES = {
    'loss_objectness': 'loss_proposal_objectness',
    'loss_rpn_box_reg': 'loss_proposal_box',
}


class PatchTrainConfig(NamedTuple):
    """``train_cfg``: training from instance boxes (box supervision).

    ``assigner`` (``TASK_UTILS``): matches patches to ground-truth boxes
    (IoU >= 0.5: object patch, < 0.5: background). ``sampler``
    (``TASK_UTILS``): the patches per image the patch losses use (512, at
    most a quarter objects). ``add_gt_patches``: add the ground-truth boxes
    to the object patches (left out of the image-level score).
    ``min_box_size``: boxes with a smaller side are ignored.
    ``refine_boxes``: the label predictors classify the location
    regressor's boxes (offsets detached; label targets those of the patch
    they came from, as Cascade R-CNN's next stage) instead of the object
    patches. ``smooth_l1_beta``: the location loss's switch point (1: the
    slides'). ``loss_weights``: fields of :class:`LossWeights`.
    """
    assigner: dict = dict(type='MaxIoUAssigner', pos_iou=0.5, neg_iou=0.5)
    sampler: dict = dict(type='BalancedRandomSampler', num=512,
                         pos_fraction=0.25)
    add_gt_patches: bool = True
    min_box_size: float = 1.0
    refine_boxes: bool = False
    smooth_l1_beta: float = 1.0
    loss_weights: Optional[dict] = None


class PatchTestConfig(NamedTuple):
    """``test_cfg``: ``refine_boxes``: the label predictors classify the
    location regressor's boxes and the context patches expanded from them
    (a second RoIAlign pass, Faster R-CNN's "refine at test"; None: when
    trained from boxes). ``thr`` / ``topk``: mmpretrain's rule for the
    positive labels."""
    refine_boxes: Optional[bool] = None
    thr: Optional[float] = None
    topk: Optional[int] = None


def patch_train_config(cfg: Optional[dict]) -> Optional[PatchTrainConfig]:
    """The checked ``train_cfg`` (None: weakly supervised, image labels
    only)."""
    if cfg is None:
        return None
    train = named_config(PatchTrainConfig, cfg, 'SpatialContextHead '
                         'train_cfg')
    try:
        weights = LossWeights(**(train.loss_weights or {}))
    except TypeError as e:
        raise ValueError(f'loss_weights takes {LossWeights._fields}, got '
                         f'{sorted(train.loss_weights)}') from e
    return train._replace(loss_weights=weights)


def patch_test_config(cfg: Optional[dict],
                train: Optional[PatchTrainConfig]) -> PatchTestConfig:
    """The checked ``test_cfg``; ``refine_boxes`` resolved (a regressor
    trained without boxes has nothing to refine)."""
    test = named_config(PatchTestConfig, cfg, 'SpatialContextHead test_cfg')
    if test.refine_boxes is None:
        return test._replace(refine_boxes=train is not None)
    if test.refine_boxes and train is None:
        raise ValueError(
            "test_cfg refine_boxes=True uses the location regressor's "
            'boxes, which train_cfg=None (weakly supervised) does not '
            'train: set test_cfg=dict(refine_boxes=False)')
    return test
