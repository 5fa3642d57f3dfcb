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


def slow_iou(a, b):
    """IoU of two boxes given as lists, by hand."""
    w = max(0., min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0., min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area - inter)


def test_match_patches_against_a_slow_loop():
    """Assigner and coder through ``match_patches`` on random boxes, against
    a loop over every (patch, box) pair with the formulas written out."""
    from mmcma.models.task_modules import match_patches
    from mmcma.models.utils.patch_types import GroundTruth
    gen = torch.Generator().manual_seed(0)

    def boxes(n):
        xy = torch.rand(n, 2, generator=gen) * 40
        return torch.cat([xy, xy + 9 + torch.rand(n, 2, generator=gen) * 30],
                         1)

    gt = GroundTruth(boxes(5), torch.tensor([0, 3, 1, 3, 2]))
    # Random patches, and the boxes moved by up to 4 px (mostly matched).
    near = gt.boxes.repeat(8, 1) + (torch.rand(40, 4, generator=gen) - .5) * 8
    patches = torch.cat([boxes(30), near])
    objectness, deltas, labels = match_patches(
        patches, gt, 4, MaxIoUAssigner(0.5, 0.3),
        DeltaXYWHBoxCoder((10., 10., 5., 5.)))
    assert (objectness == 1).sum() > 3 and (objectness == -1).sum() > 3
    for p, box in enumerate(patches.tolist()):
        ious = [slow_iou(box, g) for g in gt.boxes.tolist()]
        best = max(range(5), key=lambda k: (ious[k], -k))
        want = 1 if ious[best] >= 0.5 else (0 if ious[best] < 0.3 else -1)
        assert objectness[p] == want, p
        if want != 1:
            assert deltas[p].abs().sum() == 0 and labels[p].sum() == 0
            continue
        g = gt.boxes[best].tolist()
        pw, ph = box[2] - box[0], box[3] - box[1]
        gw, gh = g[2] - g[0], g[3] - g[1]
        expected = [10 * ((g[0] + g[2]) - (box[0] + box[2])) / 2 / pw,
                    10 * ((g[1] + g[3]) - (box[1] + box[3])) / 2 / ph,
                    5 * math.log(gw / pw), 5 * math.log(gh / ph)]
        torch.testing.assert_close(deltas[p], torch.tensor(expected),
                                   rtol=1e-4, atol=1e-4)
        assert labels[p].tolist() == [float(k == int(gt.labels[best]))
                                      for k in range(4)]
