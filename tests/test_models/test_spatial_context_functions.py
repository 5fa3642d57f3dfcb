"""The spatial-context network's pure functions against hand computations:
box coding, context patches, matching and sampling, the four losses, the
aggregation into image scores and the top patches."""
import math

import pytest
import torch

from mmcma.models.losses import (label_predictor_loss, location_loss,
                                 patch_classifier_loss)
from mmcma.models.roi_heads import (EMPTY_LOGIT, IMAGE_COMBINE, image_logits,
                                    patch_log_scores, patch_scores,
                                    pooled_image_features, top_patches)
from mmcma.models.task_modules import (BalancedRandomSampler,
                                       DeltaXYWHBoxCoder, MaxIoUAssigner,
                                       expand_boxes, match_patches,
                                       patch_targets, pyramid_strides,
                                       regress_boxes, valid_gt)
from mmcma.models.utils.patch_types import (GroundTruth, ImagePyramid,
                                            PatchPredictions)

WEIGHTS = (10., 10., 5., 5.)
CODER = DeltaXYWHBoxCoder(WEIGHTS)


def encode_boxes(boxes, reference, weights):
    return DeltaXYWHBoxCoder(weights).encode(boxes, reference)


def decode_boxes(deltas, reference, weights):
    return DeltaXYWHBoxCoder(weights).decode(deltas, reference)


def sample_patches(objectness, num_samples, positive_fraction):
    sampler = BalancedRandomSampler(num_samples, positive_fraction)
    return [sampler.sample(t) for t in objectness]


def test_encode_by_hand():
    ref = torch.tensor([[0., 0., 10., 20.]])  # centre (5, 10), 10 x 20
    box = torch.tensor([[5., 10., 25., 30.]])  # centre (15, 20), 20 x 20
    expected = [[10 * 10 / 10, 10 * 10 / 20, 5 * math.log(2), 0.]]
    torch.testing.assert_close(encode_boxes(box, ref, WEIGHTS),
                               torch.tensor(expected))


def test_encode_decode_round_trip():
    torch.manual_seed(0)
    ref = torch.rand(50, 2) * 100
    ref = torch.cat([ref, ref + 1 + torch.rand(50, 2) * 50], dim=1)
    box = torch.rand(50, 2) * 100
    box = torch.cat([box, box + 1 + torch.rand(50, 2) * 50], dim=1)
    for weights in (WEIGHTS, (1., 1., 1., 1.)):
        deltas = encode_boxes(box, ref, weights)
        torch.testing.assert_close(decode_boxes(deltas, ref, weights), box,
                                   atol=1e-3, rtol=1e-5)
    # Zero offsets give the reference back.
    torch.testing.assert_close(decode_boxes(torch.zeros(50, 4), ref, WEIGHTS),
                               ref)


def test_expand_boxes_about_the_centre_and_clipped():
    boxes = torch.tensor([[10., 10., 20., 30.], [40., 2., 50., 6.]])
    # Centre (15, 20), half sizes (10, 20): [5, 0, 25, 40] -> y clipped 35.
    # Centre (45, 4), half sizes (10, 4): [35, 0, 55, 8] -> x clipped 50.
    out = expand_boxes(boxes, 2.0, (35, 50))
    torch.testing.assert_close(
        out, torch.tensor([[5., 0., 25., 35.], [35., 0., 50., 8.]]))
    torch.testing.assert_close(expand_boxes(boxes, 1.0, (35, 50)), boxes)


def test_valid_gt_drops_small_boxes_with_their_labels():
    boxes = torch.tensor([[0., 0., 4., 4.], [3., 3., 3., 9.],
                          [1., 1., 9., 1.5]])
    gt = valid_gt(boxes, torch.tensor([5, 6, 7]), min_size=1.0)
    assert gt.boxes.tolist() == [[0., 0., 4., 4.]]
    assert gt.labels.tolist() == [5]


def test_pyramid_strides():
    maps = [torch.zeros(1, 1, 16 // s, 16 // s) for s in (1, 2, 4)]
    assert pyramid_strides(maps, (16, 16)) == [1, 2, 4]
    with pytest.raises(ValueError, match='pad_size_divisor'):
        pyramid_strides([torch.zeros(1, 1, 3, 3)], (65, 65))
    with pytest.raises(ValueError, match='double'):
        pyramid_strides(maps[:1] + maps[2:], (16, 16))


GT = GroundTruth(torch.tensor([[0., 0., 10., 10.]]), torch.tensor([2]))
PATCHES = torch.tensor([
    [0., 0., 10., 10.],  # IoU 1: object
    [0., 0., 10., 20.],  # IoU 0.5: object at fg_iou 0.5
    [5., 0., 15., 10.],  # IoU 1/3: between 0.3 and 0.5, ignored
    [20., 20., 30., 30.],  # IoU 0: background
])


def test_match_patches_by_hand():
    objectness, deltas, labels = match_patches(
        PATCHES, GT, 3, MaxIoUAssigner(0.5, 0.3), CODER)
    assert objectness.tolist() == [1, 1, -1, 0]
    # Patch 1 -> box: centre (5, 10) -> (5, 5), height 20 -> 10.
    torch.testing.assert_close(
        deltas, torch.tensor([[0., 0., 0., 0.],
                              [0., 10 * -5 / 20, 0., 5 * math.log(0.5)],
                              [0., 0., 0., 0.], [0., 0., 0., 0.]]))
    assert labels.tolist() == [[0, 0, 1], [0, 0, 1], [0, 0, 0], [0, 0, 0]]


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_match_patches_of_half_precision_patches(dtype):
    """Under autocast the RPN's patches can be 16-bit: the targets are the
    float32 ones of the same (exactly representable) boxes."""
    expected = match_patches(PATCHES, GT, 3, MaxIoUAssigner(0.5, 0.3), CODER)
    ours = match_patches(PATCHES.to(dtype), GT, 3,
                         MaxIoUAssigner(0.5, 0.3), CODER)
    for a, b in zip(ours, expected):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b)


def test_match_patches_without_boxes_or_patches():
    empty = GroundTruth(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))
    objectness, deltas, labels = match_patches(
        PATCHES, empty, 3, MaxIoUAssigner(), CODER)
    assert objectness.tolist() == [0, 0, 0, 0]
    assert labels.sum() == 0 and deltas.abs().sum() == 0
    objectness, _, labels = match_patches(
        torch.zeros(0, 4), GT, 3, MaxIoUAssigner(), CODER)
    assert objectness.shape == (0, ) and labels.shape == (0, 3)


def test_sample_patches_balances_and_skips_ignored():
    torch.manual_seed(0)
    targets = torch.tensor([1., 1., -1., 0., 0., 0., 0., 0.])
    for _ in range(20):
        (mask, ) = sample_patches([targets], 4, 0.25)
        assert int(mask[:2].sum()) == 1  # 4 x 0.25 object patches
        assert not mask[2]  # ignored
        assert int(mask[3:].sum()) == 3
    # Fewer objects than the quota: the rest is background.
    (mask, ) = sample_patches([torch.tensor([0., 0., 0., 0., 0.])], 4, 0.5)
    assert int(mask.sum()) == 4


def test_patch_targets_concatenates_images():
    empty = GroundTruth(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))
    t = patch_targets([PATCHES, PATCHES[:2]], [GT, empty], 3,
                      MaxIoUAssigner(0.5, 0.3),
                      BalancedRandomSampler(100, 0.5), CODER)
    assert t.objectness.tolist() == [1, 1, -1, 0, 0, 0]
    assert t.sampled.tolist() == [True, True, False, True, True, True]
    assert t.labels.shape == (6, 3) and t.deltas.shape == (6, 4)


OBJECTNESS = torch.tensor([1., 0., -1., 1.])
SAMPLED = torch.tensor([True, True, True, False])


def test_location_loss_by_hand():
    deltas = torch.tensor([[0.5, -2., 0., 0.], [9., 9., 9., 9.],
                           [9., 9., 9., 9.], [9., 9., 9., 9.]])
    # Only patch 0 is a sampled object patch: 0.5 * 0.5^2 + (2 - 0.5).
    loss = location_loss(deltas, torch.zeros(4, 4), OBJECTNESS, SAMPLED)
    assert loss.item() == pytest.approx(0.125 + 1.5)
    # beta 4: both quadratic, 0.5 x^2 / 4.
    loss = location_loss(deltas, torch.zeros(4, 4), OBJECTNESS, SAMPLED, 4.)
    assert loss.item() == pytest.approx((0.25 + 4) / 8)


def test_patch_classifier_loss_by_hand():
    logits = torch.tensor([2., -1., 5., 5.])
    # Patches 0 (target 1) and 1 (target 0); 2 is ignored, 3 not sampled.
    expected = -(math.log(1 / (1 + math.exp(-2))) +
                 math.log(1 - 1 / (1 + math.exp(1)))) / 2
    assert patch_classifier_loss(logits, OBJECTNESS, SAMPLED).item() == \
        pytest.approx(expected)


def test_label_predictor_loss_by_hand():
    logits = torch.tensor([[1., -2.], [5., 5.], [5., 5.], [5., 5.]])
    labels = torch.tensor([[0., 1.], [0., 0.], [0., 0.], [1., 0.]])
    sig = [1 / (1 + math.exp(-1)), 1 / (1 + math.exp(2))]
    expected = -(math.log(1 - sig[0]) + math.log(sig[1])) / 2
    assert label_predictor_loss(logits, labels, OBJECTNESS,
                                SAMPLED).item() == pytest.approx(expected)


def test_losses_without_patches_are_zero_with_gradients():
    deltas = torch.ones(2, 4, requires_grad=True)
    none = torch.tensor([False, False])
    loss = location_loss(deltas, torch.zeros(2, 4), torch.ones(2), none)
    loss.backward()
    assert loss.item() == 0 and deltas.grad.abs().sum() == 0
    assert patch_classifier_loss(torch.ones(2), torch.ones(2),
                                 none).item() == 0
    assert label_predictor_loss(torch.ones(2, 3), torch.ones(2, 3),
                                torch.zeros(2), none.logical_not()).item() == 0


def test_patch_scores_by_hand():
    objectness = torch.tensor([0., math.log(3)])  # sigmoid 1/2, 3/4
    obj = torch.logit(torch.tensor([[0.2, 0.8], [0.6, 0.4]]))
    ctx = torch.logit(torch.tensor([[0.4, 0.6], [0.9, 0.1]]))
    expected = {
        'mean': [[0.15, 0.35], [0.5625, 0.1875]],
        'product': [[0.04, 0.24], [0.405, 0.03]],
        'object': [[0.1, 0.4], [0.45, 0.3]],
        'context': [[0.2, 0.3], [0.675, 0.075]],
    }
    for combine, value in expected.items():
        log_s, log_not_s = patch_log_scores(objectness, obj, ctx, combine)
        torch.testing.assert_close(log_s.exp(), torch.tensor(value))
        torch.testing.assert_close(log_not_s.exp(), 1 - torch.tensor(value))
        torch.testing.assert_close(
            patch_scores(objectness, obj, ctx, combine), torch.tensor(value))
    with pytest.raises(ValueError, match='combine'):
        patch_scores(objectness, obj, ctx, 'sum')


def test_patch_log_scores_keep_saturated_gradients():
    """A confident background patch (s rounds to 0 in float32) still has
    exact log-scores and gradients: the loss is never log(0)."""
    objectness = torch.tensor([-120.], requires_grad=True)
    obj = torch.tensor([[3.]])
    log_s, log_not_s = patch_log_scores(objectness, obj, obj, 'mean')
    assert torch.sigmoid(objectness).item() == 0  # saturated
    assert log_s.item() == pytest.approx(-120 + math.log(torch.sigmoid(
        torch.tensor(3.)).item()), rel=1e-6)
    log_s.sum().backward()
    assert objectness.grad.item() == pytest.approx(1.0)


def test_image_logits_max_and_topk():
    scores = torch.tensor([[0.1, 0.9], [0.5, 0.2], [0.3, 0.4]],
                          dtype=torch.float64)
    log_s, log_not_s = scores.log(), (1 - scores).log()
    # Image 0: patches 0-1, image 1: none, image 2: patch 2.
    probs = image_logits(log_s, log_not_s, [2, 0, 1]).sigmoid()
    torch.testing.assert_close(
        probs, torch.tensor([[0.5, 0.9], [1e-6, 1e-6], [0.3, 0.4]],
                            dtype=torch.float64))
    probs = image_logits(log_s, log_not_s, [2, 0, 1], topk=2).sigmoid()
    torch.testing.assert_close(
        probs, torch.tensor([[0.3, 0.55], [1e-6, 1e-6], [0.3, 0.4]],
                            dtype=torch.float64))
    assert image_logits(log_s, log_not_s, [2, 0, 1])[1, 0] == EMPTY_LOGIT
    with pytest.raises(ValueError, match='topk'):
        image_logits(log_s, log_not_s, [3], topk=0)


def test_image_combine_by_hand():
    patch = torch.tensor([[0.0, 2.0]], dtype=torch.float64)
    image = torch.tensor([[math.log(3), -2.0]], dtype=torch.float64)
    torch.testing.assert_close(IMAGE_COMBINE['sum'](patch, image),
                               patch + image)
    # Mean of the probabilities 0.5 and 0.75 is 0.625: logit log(5/3).
    mean = IMAGE_COMBINE['mean'](patch, image)
    assert mean[0, 0].item() == pytest.approx(math.log(5 / 3))
    assert mean[0, 1].item() == pytest.approx(0.0)


def test_pooled_image_features_leave_out_the_padding():
    # Batch 8 x 8 with strides 2 and 4; image 0 is 8 x 8, image 1 is
    # 3 x 5 (rows 0-1 and columns 0-2 of level 0, 1 x 2 of level 1).
    fine = torch.arange(2 * 2 * 16, dtype=torch.float32).reshape(2, 2, 4, 4)
    coarse = torch.arange(2 * 2 * 4, dtype=torch.float32).reshape(2, 2, 2, 2)
    pyramid = ImagePyramid((fine, coarse), (8, 8), [(8, 8), (3, 5)])
    feats = pooled_image_features(pyramid)
    expected_0 = torch.cat([fine[0].mean((1, 2)), coarse[0].mean((1, 2))])
    expected_1 = torch.cat([fine[1, :, :2, :3].mean((1, 2)),
                            coarse[1, :, :1, :2].mean((1, 2))])
    torch.testing.assert_close(feats, torch.stack([expected_0, expected_1]))


def test_regress_boxes_per_image_and_clipped():
    boxes = [torch.tensor([[0., 0., 10., 10.]]), torch.zeros(0, 4),
             torch.tensor([[4., 4., 8., 8.], [0., 0., 2., 2.]])]
    # Image 0: x centre moves by +0.5 w; image 2: both boxes double.
    deltas = torch.tensor([[5., 0., 0., 0.], [0., 0., 5 * math.log(2), 5 *
                                               math.log(2)],
                           [0., 0., 5 * math.log(2), 5 * math.log(2)]])
    out = regress_boxes(boxes, deltas, [(20, 12), (5, 5), (20, 20)], CODER)
    torch.testing.assert_close(out[0], torch.tensor([[5., 0., 12., 10.]]))
    assert out[1].shape == (0, 4)
    torch.testing.assert_close(
        out[2], torch.tensor([[2., 2., 10., 10.], [0., 0., 3., 3.]]))


def test_top_patches_nms_per_label():
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 0., 10., 10.],
                          [20., 20., 30., 30.]])
    scores = torch.tensor([[0.9, 0.1], [0.8, 0.7], [0.3, 0.05]])
    pred = PatchPredictions(boxes, boxes, boxes + 1, torch.ones(3), scores)
    top = top_patches(pred, k=3, nms_iou=0.5)
    # (patch 1, label 0) is suppressed by (patch 0, label 0), IoU 0.9;
    # (patch 1, label 1) survives: NMS is per label.
    assert top.labels.tolist() == [0, 1, 0]
    torch.testing.assert_close(top.scores, torch.tensor([0.9, 0.7, 0.3]))
    torch.testing.assert_close(top.boxes, boxes[[0, 1, 2]])
    torch.testing.assert_close(top.context_boxes, boxes[[0, 1, 2]] + 1)
    assert top_patches(pred, k=5, score_thr=0.75).labels.tolist() == [0]
