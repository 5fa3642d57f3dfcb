import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.losses import CrossEntropyLoss
from mmpretrain.registry import MODELS

from mmcma.models.losses.weighted_bce import (ClassImbalanceBCELoss,
                                              class_imbalance_bce)


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
    per_elem = class_imbalance_bce(logits, target, freq, 1.0, True)
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


def test_beta_zero_probabilities_equal_torch_bce():
    torch.manual_seed(1)
    prob = torch.rand(3, 5) * 0.98 + 0.01
    target = (torch.rand(3, 5) > 0.5).float()
    ours = ClassImbalanceBCELoss(use_sigmoid=False)
    torch.testing.assert_close(ours(prob, target),
                               F.binary_cross_entropy(prob, target))


def test_logits_and_probabilities_agree():
    torch.manual_seed(2)
    logits = torch.randn(5, 6) * 2
    target = (torch.rand(5, 6) > 0.3).float()
    freq = torch.rand(6)
    from_logits = ClassImbalanceBCELoss(beta=0.7, num_classes=6)
    from_probs = ClassImbalanceBCELoss(beta=0.7, use_sigmoid=False,
                                       num_classes=6)
    for module in (from_logits, from_probs):
        module.set_label_state('frequency', freq)
    torch.testing.assert_close(
        from_logits(logits, target, avg_factor=5),
        from_probs(torch.sigmoid(logits), target, avg_factor=5))


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

    prob = torch.tensor([[0.0, 1.0, 1.0, 0.0]], requires_grad=True)
    value = ClassImbalanceBCELoss(use_sigmoid=False)(prob, target)
    value.backward()
    assert torch.isfinite(value)
    assert torch.isfinite(prob.grad).all()


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
    assert {'label_frequency', 'label_frequency_ready'} == set(
        src.state_dict())
