"""MS-CMA head + loss: eq. 11 fusion and eq. 12 stay exact when saturated."""
import pytest
import torch
from mmpretrain.structures import DataSample

import mmcma.models.losses.weighted_bce  # noqa: F401  (registers the loss)
from mmcma.models.heads.ms_cma_head import MSCMAHead
from mmcma.models.utils import CMTFeature
from tests.helpers.references import plain_fused_loss  # float64 eq. 11+12

N, C, D, S = 4, 5, 3, 3


def _head_and_feats(**kwargs):
    torch.manual_seed(0)
    head = MSCMAHead(num_classes=N,
                     in_channels=(C, ) * S,
                     embed_dim=D,
                     **kwargs)
    head.set_label_state('embedding', torch.randn(N, D))
    with torch.no_grad():  # non-trivial classifiers
        for branch in head.branches:
            branch.weight.normal_()
            branch.bias.normal_()
    feats = tuple(
        CMTFeature(torch.randn(2, C, 3, 3), torch.randn(2, D, 3, 3))
        for _ in range(S))
    return head, feats


SAMPLES = [DataSample().set_gt_label([0, 3]), DataSample().set_gt_label([1])]
TARGET = torch.tensor([[1.0, 0, 0, 1], [0, 1, 0, 0]])


def test_head_loss_and_predictions_follow_eq_11_and_12():
    beta = 0.4
    head, feats = _head_and_feats(
        loss=dict(type='ClassImbalanceBCELoss', beta=beta, use_sigmoid=False))
    freq = torch.tensor([0.1, 0.5, 0.7, 0.3])
    head.loss_module.set_label_state('frequency', freq)
    scale_logits = torch.stack(head.branch_logits(feats), dim=1)
    expected = plain_fused_loss(scale_logits, TARGET, freq, beta).sum() / 2
    p = torch.sigmoid(scale_logits.double()).mean(1)  # eq. 11
    loss = head.loss(feats, SAMPLES)['loss']
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    scores = torch.stack([s.pred_score for s in head.predict(feats)])
    torch.testing.assert_close(scores.double(), p, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(head(feats).double(), p, rtol=1e-5, atol=1e-7)


def _saturate(head, biases):
    """Branch s predicts ``biases[s]`` for every label: zero weights."""
    with torch.no_grad():
        for branch, bias in zip(head.branches, biases):
            branch.weight.zero_()
            branch.bias.fill_(bias)


@pytest.mark.parametrize('magnitude', [30.0, 1e4])
def test_every_branch_saturated_wrong_way_learns(magnitude):
    head, feats = _head_and_feats()
    _saturate(head, [-magnitude] * S)  # every label present, predicted absent
    samples = [DataSample().set_gt_label(list(range(N)))] * 2
    loss = head.loss(feats, samples)['loss']
    assert loss.item() == pytest.approx(N * magnitude, rel=1e-5)
    loss.backward()
    # Each element's d/dl is -1/S per branch; sum over B = 2 divided by the
    # batch size (avg_factor) leaves -1/S for each bias.
    for branch in head.branches:
        torch.testing.assert_close(branch.bias.grad, torch.full((N, ), -1 / S))


@pytest.mark.parametrize('saturated', [30.0, -30.0])
def test_one_saturated_branch_learns(saturated):
    head, feats = _head_and_feats()
    _saturate(head, [saturated, 0.5, -0.5])
    label = [] if saturated > 0 else list(range(N))  # branch 0 is wrong
    loss = head.loss(feats, [DataSample().set_gt_label(label)] * 2)['loss']
    loss.backward()
    grad = head.branches[0].bias.grad
    assert torch.isfinite(grad).all()
    # Non-zero, in the direction that corrects the branch.
    assert (grad * saturated > 0).all()


def test_loss_must_take_scale_logits():
    with pytest.raises(ValueError, match=r'per-scale logits \(B, S, N\)'):
        MSCMAHead(N, (C, C),
                  D,
                  loss=dict(type='CrossEntropyLoss', use_sigmoid=False))
