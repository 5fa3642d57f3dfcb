import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.losses import CrossEntropyLoss
from mmpretrain.registry import MODELS

from mmcma.models.losses import (ClassImbalanceBCELoss, FusedScaleBCELoss,
                                 class_imbalance_bce,
                                 sigmoid_log_probabilities)
from tests.helpers.references import plain_fused_loss


def _hand_loss(prob, target, freq, beta):
    """Eq. 12 written out with Python floats, summed over classes."""
    rows = []
    for p_row, y_row in zip(prob, target):
        total = 0.0
        for p, y, f in zip(p_row, y_row, freq):
            w = y * math.exp(beta * (1 - f)) + (1 - y) * math.exp(beta * f)
            total -= w * (y * math.log(p) + (1 - y) * math.log(1 - p))
        rows.append(total)
    return rows


def test_matches_hand_computation():
    logits = torch.tensor([[2.0, -1.0, 0.5], [-0.3, 1.2, -2.0]])
    target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    freq = [0.1, 0.6, 0.9]
    beta = 0.4
    expected = _hand_loss(
        torch.sigmoid(logits).tolist(), target.tolist(), freq, beta)
    loss = ClassImbalanceBCELoss(beta=beta, num_classes=3)
    loss.set_label_state('frequency', np.array(freq))
    # avg_factor = batch size (as MultiLabelClsHead passes): mean over the
    # batch of the sum over classes.
    got = loss(logits, target, avg_factor=2)
    assert got.item() == pytest.approx(sum(expected) / 2, rel=1e-5)
    per_elem = loss(logits, target, reduction_override='none')
    assert per_elem.sum(1).tolist() == pytest.approx(expected, rel=1e-5)


def test_weights_favour_rare_positives():
    freq = torch.tensor([0.01, 0.99])
    target = torch.ones(1, 2)
    logits = torch.zeros(1, 2)
    per_elem = class_imbalance_bce(*sigmoid_log_probabilities(logits), target,
                                   freq, 1.0)
    assert per_elem[0, 0] > per_elem[0, 1]
    assert (per_elem[0, 0] / per_elem[0, 1]).item() == pytest.approx(
        math.exp(0.98), rel=1e-5)


@pytest.mark.parametrize('reduction,avg_factor', [('mean', None), ('mean', 4),
                                                  ('sum', None),
                                                  ('none', None)])
def test_beta_zero_equals_mmpretrain_bce(reduction, avg_factor):
    torch.manual_seed(0)
    logits = torch.randn(4, 7) * 3
    target = (torch.rand(4, 7) > 0.5).float()
    ours = ClassImbalanceBCELoss(beta=0.0, reduction=reduction)
    ref = CrossEntropyLoss(use_sigmoid=True, reduction=reduction)
    torch.testing.assert_close(ours(logits, target, avg_factor=avg_factor),
                               ref(logits, target, avg_factor=avg_factor))
    # Without frequencies: beta = 0 needs none.
    assert ours.label_state_shapes() == {}


def test_gradients_finite_when_saturated():
    target = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    logits = torch.tensor([[-200.0, 200.0, 200.0, -200.0]], requires_grad=True)
    loss = ClassImbalanceBCELoss(beta=0.4, num_classes=4)
    loss.set_label_state('frequency', torch.full((4, ), 0.5))
    value = loss(logits, target)
    value.backward()
    assert torch.isfinite(value)
    assert torch.isfinite(logits.grad).all()
    # Confidently wrong logits still get a full-size gradient.
    assert logits.grad[0, 0] < 0 and logits.grad[0, 1] > 0


def _fused_loss(beta, freq, **kwargs):
    loss = FusedScaleBCELoss(beta=beta, num_classes=len(freq), **kwargs)
    loss.set_label_state('frequency', torch.as_tensor(freq))
    return loss


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_scale_logits_equal_plain_formula(dtype):
    torch.manual_seed(1)
    scale_logits = (torch.randn(4, 3, 6) * 4).to(dtype)  # (B, S, N)
    target = (torch.rand(4, 6) > 0.5).float()
    freq = [0.05, 0.2, 0.4, 0.5, 0.8, 0.95]
    expected = plain_fused_loss(scale_logits, target, freq, 0.7)
    loss = _fused_loss(0.7, freq)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else dict(
        rtol=1e-10, atol=1e-12)
    got = loss(scale_logits, target, reduction_override='none')
    assert got.shape == (4, 6)
    torch.testing.assert_close(got.double(), expected, **tol)
    # Reduction as for logits: sum over classes, mean over the batch.
    torch.testing.assert_close(
        loss(scale_logits, target, avg_factor=4).double(),
        expected.sum() / 4, **tol)
    torch.testing.assert_close(
        loss(scale_logits, target).double(), expected.mean(), **tol)


def test_single_scale_equals_logits():
    torch.manual_seed(2)
    logits = torch.randn(5, 6) * 2
    target = (torch.rand(5, 6) > 0.3).float()
    freq = torch.rand(6)
    from_logits = ClassImbalanceBCELoss(beta=0.7, num_classes=6)
    from_scales = FusedScaleBCELoss(beta=0.7, num_classes=6)
    for module in (from_logits, from_scales):
        module.set_label_state('frequency', freq)
    torch.testing.assert_close(
        from_logits(logits, target, avg_factor=5),
        from_scales(logits[:, None], target, avg_factor=5))


def test_scale_logits_reject_probabilities_and_bad_shapes():
    loss = FusedScaleBCELoss()
    target = torch.ones(2, 3)
    with pytest.raises(ValueError, match=r'per-scale logits \(B, S, N\)'):
        loss(torch.full((2, 3), 0.5), target)
    with pytest.raises(ValueError, match=r'got pred \(3, 2, 3\)'):
        loss(torch.zeros(3, 2, 3), target)
    with pytest.raises(ValueError, match='equal shapes'):
        ClassImbalanceBCELoss()(torch.zeros(2, 1, 3), target)


@pytest.mark.parametrize('magnitude', [30.0, 1e4])
def test_every_branch_saturated_wrong_way_gets_gradient(magnitude):
    # Positives predicted -m and negatives +m by all three branches: the
    # fused probability rounds to exactly 0 or 1 in float32.
    target = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    sign = 1 - 2 * target  # -1 for positives, +1 for negatives
    scale_logits = (magnitude * sign[:, None].expand(1, 3, 4)).clone()
    scale_logits.requires_grad_()
    freq = [0.1, 0.3, 0.9, 0.6]
    beta = 0.4
    loss = _fused_loss(beta, freq, reduction='sum')
    value = loss(scale_logits, target)
    value.backward()
    # Hand computation: every element costs w_k * softplus(m) (~ m) and each
    # of the S = 3 equal branches gets 1/3 of d/dl softplus = sigmoid(m) = 1,
    # with the sign that moves it towards the target.
    w = torch.tensor([
        math.exp(beta * (1 - freq[0])),
        math.exp(beta * freq[1]),
        math.exp(beta * (1 - freq[2])),
        math.exp(beta * freq[3])
    ])
    assert value.item() == pytest.approx(w.sum().item() * magnitude, rel=1e-5)
    expected_grad = (sign * w / 3)[:, None].expand(1, 3, 4)
    torch.testing.assert_close(scale_logits.grad, expected_grad)


@pytest.mark.parametrize('saturated', [30.0, -30.0])
def test_one_saturated_branch_gets_its_exact_gradient(saturated):
    # Branch 0 saturated the wrong way for the target, branches 1-2 moderate.
    target = torch.tensor([[1.0 if saturated < 0 else 0.0] * 2])
    scale_logits = torch.tensor(
        [[[saturated, saturated], [0.5, -1.0], [-0.3, 2.0]]],
        requires_grad=True)
    freq, beta = [0.2, 0.7], 0.4
    loss = _fused_loss(beta, freq, reduction='sum')
    loss(scale_logits, target).backward()
    reference = scale_logits.detach().double().requires_grad_()
    plain_fused_loss(reference, target, freq, beta).sum().backward()
    grad = scale_logits.grad
    assert torch.isfinite(grad).all()
    # sigmoid'(30) ~ 9e-14: tiny but non-zero, pushing towards the target
    # (gradient descent lowers a logit with a positive gradient).
    assert (grad[0, 0] != 0).all()
    assert (grad[0, 0] * saturated > 0).all()
    torch.testing.assert_close(grad.double(),
                               reference.grad,
                               rtol=1e-4,
                               atol=0)


def test_gradients_finite_for_every_mix_of_saturation():
    values = [-1e4, -30.0, -5.0, 0.0, 5.0, 30.0, 1e4]
    # Every combination of three branch logits, each for target 0 and 1.
    combos = torch.tensor(list(itertools.product(values, repeat=3)))
    scale_logits = torch.cat([combos, combos])[:, :, None]  # (2K, 3, 1)
    scale_logits.requires_grad_()
    target = torch.cat(
        [torch.zeros(len(combos), 1),
         torch.ones(len(combos), 1)])
    loss = _fused_loss(0.4, [0.3], reduction='none')
    value = loss(scale_logits, target)
    value.sum().backward()
    assert torch.isfinite(value).all()
    assert torch.isfinite(scale_logits.grad).all()
    # The most wrong branch gets a gradient towards the target whenever its
    # true gradient is a float32 number: it is wrong by at most 30, or every
    # branch is wrong by 1e4 (a branch wrong by 1e4 next to a better one has
    # a true gradient of about exp(-1e4), which is 0).
    sign = 1 - 2 * target  # (2K, 1): +1 where the target is 0
    wrongness = scale_logits.detach()[:, :, 0] * sign
    worst, index = wrongness.max(1, keepdim=True)
    worst_grad = scale_logits.grad[:, :, 0].gather(1, index)
    representable = ((worst > 0) &
                     (worst <= 30)) | (wrongness.min(1, True)[0] == 1e4)
    # Per target: 6**3 triples without 1e4 minus the 4**3 never wrong, plus 1.
    assert representable.sum() == 2 * (6**3 - 4**3 + 1)
    assert (worst_grad * sign > 0)[representable].all()


def test_sample_weight_and_loss_weight():
    logits = torch.randn(3, 4)
    target = (torch.rand(3, 4) > 0.5).float()
    weight = torch.tensor([1.0, 0.0, 2.0])
    loss = ClassImbalanceBCELoss(loss_weight=0.5, reduction='sum')
    per_elem = F.binary_cross_entropy_with_logits(logits,
                                                  target,
                                                  reduction='none')
    expected = 0.5 * (per_elem * weight[:, None]).sum()
    torch.testing.assert_close(loss(logits, target, weight=weight), expected)


def test_frequency_validation_and_requirement():
    loss = ClassImbalanceBCELoss(beta=0.4, num_classes=3)
    assert loss.label_state_shapes() == {'frequency': (3, )}
    with pytest.raises(RuntimeError, match='label frequencies.*never filled'):
        loss(torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        loss.set_label_state('frequency', torch.tensor([0.2, 1.5, 0.1]))
    with pytest.raises(ValueError, match=r'expected shape \(3,\)'):
        loss.set_label_state('frequency', np.array([0.2, 0.5]))
    with pytest.raises(ValueError, match=r'expected shape \(3,\)'):
        loss.set_label_state('frequency', np.zeros((3, 1)))
    with pytest.raises(ValueError, match='num_classes'):
        ClassImbalanceBCELoss(beta=0.4)
    loss.set_label_state('frequency', np.array([0.2, 0.5, 0.1]))
    assert torch.isfinite(loss(torch.zeros(2, 3), torch.zeros(2, 3)))


def test_frequency_buffer_round_trips_state_dict():
    src = ClassImbalanceBCELoss(beta=0.4, num_classes=3)
    src.set_label_state('frequency', np.array([0.2, 0.5, 0.1]))
    dst = MODELS.build(
        dict(type='ClassImbalanceBCELoss', beta=0.4, num_classes=3))
    dst.load_state_dict(src.state_dict())
    logits, target = torch.randn(2, 3), torch.ones(2, 3)
    torch.testing.assert_close(dst(logits, target), src(logits, target))
    assert {'label_frequency',
            'label_frequency_ready'} == set(src.state_dict())
