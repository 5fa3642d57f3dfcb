"""The spatial-context network's own task modules (assigner, sampler, box
coder; written because torchvision keeps its in a private module) against
hand-worked examples, and built from configs by the registry."""
import math

import pytest
import torch
from mmpretrain.registry import TASK_UTILS

import mmcma  # noqa: F401  (registers everything)
from mmcma.models.task_modules import (BACKGROUND, IGNORED,
                                       BalancedRandomSampler,
                                       DeltaXYWHBoxCoder, MaxIoUAssigner)

GT = torch.tensor([[0., 0., 10., 10.], [20., 0., 30., 10.]])


def test_assigner_by_hand():
    patches = torch.tensor([
        [0., 0., 10., 10.],  # IoU 1 with box 0
        [20., 0., 30., 20.],  # IoU 100 / 200 = 0.5 with box 1
        [5., 0., 15., 10.],  # IoU 50 / 150 = 1/3 with box 0: ignored
        [0., 0., 10., 40.],  # IoU 100 / 400 = 0.25 with box 0: background
        [50., 50., 60., 60.],  # IoU 0
        [10., 0., 20., 10.],  # IoU 0 with both (touching): background
    ])
    matched = MaxIoUAssigner(pos_iou=0.5, neg_iou=0.3).assign(patches, GT)
    assert matched.tolist() == [0, 1, IGNORED, BACKGROUND, BACKGROUND,
                                BACKGROUND]
    # neg_iou == pos_iou: no ignore band.
    matched = MaxIoUAssigner(0.5, 0.5).assign(patches, GT)
    assert matched.tolist() == [0, 1] + [BACKGROUND] * 4


def test_assigner_ties_go_to_the_first_box_and_no_box_is_background():
    # A patch halfway between two equal boxes: IoU 75 / 125 with each.
    boxes = torch.tensor([[0., 0., 10., 10.], [5., 0., 15., 10.]])
    patch = torch.tensor([[2.5, 0., 12.5, 10.]])
    assert MaxIoUAssigner(0.5, 0.5).assign(patch, boxes).tolist() == [0]
    empty = MaxIoUAssigner().assign(patch, torch.zeros(0, 4))
    assert empty.tolist() == [BACKGROUND] and empty.dtype == torch.int64
    with pytest.raises(ValueError, match='neg_iou <= pos_iou'):
        MaxIoUAssigner(0.3, 0.5)


def test_coder_encodes_by_hand():
    coder = DeltaXYWHBoxCoder((10., 10., 5., 5.))
    ref = torch.tensor([[0., 0., 10., 20.]])  # centre (5, 10), 10 x 20
    box = torch.tensor([[10., 0., 30., 10.]])  # centre (20, 5), 20 x 10
    expected = [[10 * 15 / 10, 10 * -5 / 20, 5 * math.log(2),
                 5 * math.log(0.5)]]
    torch.testing.assert_close(coder.encode(box, ref), torch.tensor(expected))
    torch.testing.assert_close(coder.decode(coder.encode(box, ref), ref), box)


def test_coder_decodes_by_hand_and_clamps_the_size():
    coder = DeltaXYWHBoxCoder((1., 2., 1., 0.5), max_log_ratio=math.log(4))
    ref = torch.tensor([[0., 0., 4., 8.]])  # centre (2, 4), 4 x 8
    # dx 1 -> +4 px; dy 2 / 2 -> +8 px; dw log 2 -> 8 wide; dh 10 * 0.5 ->
    # log ratio 20, clamped at log 4: 32 high.
    deltas = torch.tensor([[1., 2., math.log(2), 10.]])
    # Centre (6, 12), 8 x 32.
    torch.testing.assert_close(coder.decode(deltas, ref),
                               torch.tensor([[2., -4., 10., 28.]]))
    with pytest.raises(ValueError, match='four positive numbers'):
        DeltaXYWHBoxCoder((1., 1., 1.))


def test_sampler_quota_and_draw():
    targets = torch.tensor([1., 1., 1., -1., 0., 0., 0., 0., 0., 0.])
    sampler = BalancedRandomSampler(num=4, pos_fraction=0.5)
    torch.manual_seed(3)
    mask = sampler.sample(targets)
    # By hand with the same seed: 2 of the 3 objects, then 2 of the 6
    # background patches, each the head of a random permutation.
    torch.manual_seed(3)
    objects = torch.tensor([0, 1, 2])[torch.randperm(3)[:2]]
    background = torch.tensor([4, 5, 6, 7, 8, 9])[torch.randperm(6)[:2]]
    assert torch.nonzero(mask).flatten().tolist() == sorted(
        objects.tolist() + background.tolist())
    assert not mask[3]
    # Fewer objects than the quota: background fills up to num.
    mask = sampler.sample(torch.tensor([1., 0., 0., 0., 0., -1.]))
    assert mask[0] and not mask[5] and int(mask[1:5].sum()) == 3
    # Fewer patches than num: all usable ones.
    assert sampler.sample(torch.tensor([0., -1., 1.])).tolist() == [
        True, False, True]
    with pytest.raises(ValueError, match='pos_fraction'):
        BalancedRandomSampler(4, 1.5)


def test_task_modules_build_from_configs():
    assigner = TASK_UTILS.build(dict(type='MaxIoUAssigner', pos_iou=0.7,
                                     neg_iou=0.3))
    sampler = TASK_UTILS.build(dict(type='BalancedRandomSampler', num=8))
    coder = TASK_UTILS.build(dict(type='DeltaXYWHBoxCoder'))
    assert (assigner.pos_iou, assigner.neg_iou) == (0.7, 0.3)
    assert (sampler.num, sampler.pos_fraction) == (8, 0.25)
    assert coder.weights == (10., 10., 5., 5.)
