"""CMA's ``score='softmax'`` option against a slow reference."""
import math

import pytest
import torch

from mmcma.models.heads import CMAHead, MSCMAHead
from mmcma.models.heads.cma_scores import (MIN_TEMPERATURE, CosineAttention,
                                           softmax_attention_scores)
from mmcma.models.utils import CMTFeature

N, C, D = 4, 5, 3


def reference_softmax_cma(visual, projected, emb, weight, bias, tau,
                          mask=None):
    """a_k^i = exp(cos_k^i / tau) / sum_j exp(cos_k^j / tau) over valid i,
    then eq. 9-10, with loops over samples, labels and positions (float64).
    """
    visual, projected, emb = visual.double(), projected.double(), emb.double()
    weight, bias = weight.detach().double(), bias.detach().double()
    num_b, num_c, num_m = visual.shape
    attention = torch.zeros(num_b, emb.shape[0], num_m, dtype=torch.float64)
    logits = torch.zeros(num_b, emb.shape[0], dtype=torch.float64)
    for b in range(num_b):
        for k in range(emb.shape[0]):
            valid = [i for i in range(num_m) if mask is None or mask[b, i]]
            e = emb[k]
            exps = {}
            for i in valid:
                p = projected[b, :, i]
                cos = float(p @ e) / (float(p.norm()) * float(e.norm()))
                exps[i] = math.exp(cos / tau)
            total = sum(exps.values())
            h = torch.zeros(num_c, dtype=torch.float64)
            for i, value in exps.items():
                attention[b, k, i] = value / total
                h += value / total * visual[b, :, i]
            logits[b, k] = float(weight[k] @ h) + float(bias[k])
    return attention, logits


def _head(cls=CMAHead, **kwargs):
    torch.manual_seed(0)
    head = cls(num_classes=N, embed_dim=D, score='softmax', **kwargs)
    with torch.no_grad():
        for branch in head.branches:
            branch.weight.normal_()
            branch.bias.normal_()
    return head


@pytest.mark.parametrize('tau', [0.1, 0.7])
def test_softmax_head_matches_reference(tau):
    head = _head(in_channels=C, temperature=tau)
    emb = torch.randn(N, D)
    head.set_label_state('embedding', emb)
    visual, projected = torch.randn(2, C, 3, 4), torch.randn(2, D, 3, 4)
    mask = torch.rand(2, 3, 4) > 0.3
    mask[:, 0, 0] = True
    feats = (CMTFeature(visual, projected, mask), )
    ref_attention, ref_logits = reference_softmax_cma(
        visual.flatten(2), projected.flatten(2), emb,
        head.branches[0].weight, head.branches[0].bias, tau, mask.flatten(1))
    torch.testing.assert_close(head(feats).double(), ref_logits, atol=1e-5,
                               rtol=1e-5)
    attention, = head.get_attention(feats)
    torch.testing.assert_close(attention.flatten(2).double(), ref_attention,
                               atol=1e-6, rtol=1e-5)


def test_no_row_is_zero_when_every_cosine_is_negative():
    """ReLU scores give an all-zero row (logit = bias); softmax does not."""
    emb = torch.ones(N, D)
    projected = -torch.rand(1, D, 6) - 0.1  # every cosine < 0
    visual = torch.randn(1, C, 6)
    feats = (CMTFeature(visual, projected), )
    relu = _head(in_channels=C)
    relu.branches[0].attention_scores = CosineAttention('relu')
    relu.set_label_state('embedding', emb)
    assert relu.get_attention(feats)[0].abs().sum() == 0
    softmax = _head(in_channels=C, temperature=MIN_TEMPERATURE)
    softmax.set_label_state('embedding', emb)
    attention = softmax.get_attention(feats)[0]
    assert (attention > 0).all()
    torch.testing.assert_close(attention.sum(-1), torch.ones(1, N))


def test_extreme_cosines_stay_finite_at_the_smallest_temperature():
    cosine = torch.tensor([[[-1.0, 1.0, -1.0]]])
    z = softmax_attention_scores(cosine, torch.tensor(MIN_TEMPERATURE))
    assert torch.isfinite(z).all() and (z > 0).all()
    assert z[0, 0, 1] == 1


def test_temperature_is_learnt_and_floored():
    head = _head(in_channels=C, temperature=0.2)
    head.set_label_state('embedding', torch.randn(N, D))
    feats = (CMTFeature(torch.randn(2, C, 5), torch.randn(2, D, 5)), )
    scores = head.branches[0].attention_scores
    assert torch.isclose(scores.temperature, torch.tensor(0.2))
    head(feats).sum().backward()
    assert scores.log_temperature.grad is not None
    assert scores.log_temperature.grad != 0
    with torch.no_grad():
        scores.log_temperature.fill_(math.log(1e-4))
    assert scores.temperature == MIN_TEMPERATURE


def test_lower_temperature_sharpens_attention():
    emb = torch.randn(N, D)
    feats = (CMTFeature(torch.randn(2, C, 8), torch.randn(2, D, 8)), )

    def peak(tau):
        head = _head(in_channels=C, temperature=tau)
        head.set_label_state('embedding', emb)
        return head.get_attention(feats)[0].amax(-1)

    assert (peak(0.05) > peak(1.0)).all()


def test_ms_cma_passes_the_score_to_every_branch():
    head = _head(MSCMAHead, in_channels=(C, C), temperature=0.3)
    assert [b.attention_scores.score for b in head.branches] == ['softmax'] * 2
    assert all(
        torch.isclose(b.attention_scores.temperature, torch.tensor(0.3))
        for b in head.branches)
    assert CMAHead(num_classes=N, in_channels=C,
                   embed_dim=D).branches[0].attention_scores.score == 'relu'


def test_bad_options_raise():
    with pytest.raises(ValueError, match='score must be one of'):
        CMAHead(num_classes=N, in_channels=C, embed_dim=D, score='tanh')
    with pytest.raises(ValueError, match='temperature must be'):
        CMAHead(num_classes=N, in_channels=C, embed_dim=D, score='softmax',
                temperature=0.001)
    with pytest.raises(ValueError, match="applies to attention='cosine'"):
        CMAHead(num_classes=N, in_channels=C, embed_dim=D, attention='self',
                score='softmax')
