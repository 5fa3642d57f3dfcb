"""MS-CMA head + loss: eq. 11 fusion and eq. 12 stay exact when saturated;
the head returns logits, with the scores, loss values and gradients of the
head that returned probabilities."""
import itertools

import pytest
import torch
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.structures import DataSample

from mmcma.models.heads.ms_cma_head import MSCMAHead, fuse_logits
from mmcma.models.losses import (FusedScaleBCELoss, class_imbalance_bce,
                                 mean_sigmoid_log_probabilities)
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
        loss=dict(type='FusedScaleBCELoss', beta=beta))
    freq = torch.tensor([0.1, 0.5, 0.7, 0.3])
    head.loss_module.set_label_state('frequency', freq)
    scale_logits = torch.stack(head.branch_logits(feats), dim=1)
    expected = plain_fused_loss(scale_logits, TARGET, freq, beta).sum() / 2
    p = torch.sigmoid(scale_logits.double()).mean(1)  # eq. 11
    loss = head.loss(feats, SAMPLES)['loss']
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    scores = torch.stack([s.pred_score for s in head.predict(feats)])
    torch.testing.assert_close(scores.double(), p, rtol=1e-5, atol=1e-7)
    # forward gives the logits of those probabilities.
    torch.testing.assert_close(head(feats).double(), torch.logit(p),
                               rtol=1e-5, atol=1e-6)


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
    for loss in (dict(type='CrossEntropyLoss', use_sigmoid=True),
                 dict(type='ClassImbalanceBCELoss')):
        with pytest.raises(ValueError,
                           match=r"per-scale logits \(B, S, N\).*"
                           'FusedScaleBCELoss'):
            MSCMAHead(N, (C, C), D, loss=loss)


# ------------------------------------- the head that returned probabilities
#: Every mix of three branch logits from these values, as (K, S=3, N=1).
EXTREMES = [-1e4, -100.0, -30.0, -5.0, -1.0, 0.0, 1.0, 5.0, 30.0, 100.0, 1e4]
MIXES = torch.tensor(list(itertools.product(EXTREMES, repeat=3)))[:, :, None]


def probabilities_before(scale_logits):
    """What the head's forward returned before it returned logits: the
    float32 fused probability, exp of eq. 11 in log space."""
    return mean_sigmoid_log_probabilities(scale_logits, dim=1)[0].exp()


def loss_before(scale_logits, target, freq, beta):
    """The loss the head had before (ClassImbalanceBCELoss on per-scale
    logits), by its steps: eq. 11 in log space, eq. 12, mmpretrain's
    reduction (sum over classes divided by the batch size)."""
    log_p, log_q = mean_sigmoid_log_probabilities(scale_logits, dim=1)
    loss = class_imbalance_bce(log_p, log_q, target, freq, beta)
    return weight_reduce_loss(loss, reduction='mean',
                              avg_factor=target.size(0))


def test_fused_scores_unchanged_at_extreme_logits():
    """sigmoid(fused logit) is the fused probability the head gave before,
    within float32 rounding, at branches up to +-1e4, and equally close to
    the float64 mean of the sigmoids."""
    before = probabilities_before(MIXES)
    after = torch.sigmoid(fuse_logits(MIXES))
    exact = torch.sigmoid(MIXES.double()).mean(1)
    assert torch.isfinite(fuse_logits(MIXES)).all()
    tiny = torch.finfo(torch.float32).tiny  # smallest normal float32
    normal = exact > tiny
    for scores in (before, after):
        torch.testing.assert_close(scores.double()[normal], exact[normal],
                                   rtol=1.2e-6, atol=0)
        # Below float32's normal range both are off by less than its floor.
        assert ((scores.double() - exact).abs()[~normal] < tiny).all()
    torch.testing.assert_close(after, before, rtol=1.2e-6, atol=tiny)
    # The same labels at mmpretrain's threshold of 0.5, except where the
    # exact mean is 0.5 (branches -a, 0, a): the fused logit is then exactly
    # 0 and gives 0.5 where the probability rounded to just below.
    half = exact == 0.5
    assert half.any()
    assert torch.equal((after >= 0.5)[~half], (before >= 0.5)[~half])
    assert (after[half] == 0.5).all()


def test_head_scores_unchanged_at_extreme_logits():
    head, feats = _head_and_feats(thr=0.5)
    _saturate(head, [-1e4, 30.0, -5.0])
    scores = torch.stack([s.pred_score for s in head.predict(feats)])
    before = probabilities_before(torch.stack(head.branch_logits(feats), 1))
    torch.testing.assert_close(scores, before, rtol=1.2e-6, atol=0)
    exact = torch.sigmoid(torch.tensor([-1e4, 30.0, -5.0]).double()).mean()
    torch.testing.assert_close(scores.double(), exact.expand(2, N),
                               rtol=1.2e-6, atol=0)
    assert all(s.pred_label.tolist() == [] for s in head.predict(feats))


@pytest.mark.parametrize('beta', [0.0, 0.4])
def test_loss_values_and_gradients_unchanged_at_extreme_logits(beta):
    """The loss of the per-scale logits is, bit for bit, the one the head
    had before, at every mix of branches up to +-1e4, for both targets."""
    scale_logits = torch.cat([MIXES, MIXES]).expand(-1, -1, 2).contiguous()
    target = torch.cat([torch.zeros(len(MIXES), 2),
                        torch.ones(len(MIXES), 2)])
    freq = torch.tensor([0.3, 0.8])
    loss = FusedScaleBCELoss(beta=beta, num_classes=2)
    if beta:
        loss.set_label_state('frequency', freq)
    grads = []
    for fn in (lambda x: loss(x, target, avg_factor=len(target)),
               lambda x: loss_before(x, target, freq, beta)):
        x = scale_logits.clone().requires_grad_()
        value = fn(x)
        value.backward()
        grads.append((value.detach(), x.grad))
    (after, grad_after), (before, grad_before) = grads
    assert torch.isfinite(after) and torch.isfinite(grad_after).all()
    assert torch.equal(after, before)
    assert torch.equal(grad_after, grad_before)
