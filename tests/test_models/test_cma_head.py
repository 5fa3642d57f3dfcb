import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmcma.models.losses.weighted_bce  # noqa: F401  (registers the loss)
import mmcma.models.necks.cmt  # noqa: F401  (registers the neck)
from mmcma.models.heads.cma_head import (CMAHead, SelfAttention,
                                         cosine_attention_scores,
                                         normalize_attention)
from mmcma.models.heads.ms_cma_head import MSCMAHead
from mmcma.models.label_state import label_state_modules
from mmcma.models.utils import CMTFeature

N, C, D = 4, 5, 3


def reference_cma(visual, projected, emb, weight, bias, mask=None):
    """Eq. 7-10 with explicit loops over samples, labels and positions.

    visual (B, C, M), projected (B, D, M), emb (N, D), mask (B, M).
    Returns attention (B, N, M) and probabilities (B, N) in float64.
    """
    visual, projected, emb = visual.double(), projected.double(), emb.double()
    weight, bias = weight.detach().double(), bias.detach().double()
    num_b, num_c, num_m = visual.shape
    num_n = emb.shape[0]
    attention = torch.zeros(num_b, num_n, num_m, dtype=torch.float64)
    probs = torch.zeros(num_b, num_n, dtype=torch.float64)
    for b in range(num_b):
        for k in range(num_n):
            z = []
            for i in range(num_m):
                if mask is not None and not mask[b, i]:
                    z.append(0.0)
                    continue
                p, e = projected[b, :, i], emb[k]
                cos = float(p @ e) / (float(p.norm()) * float(e.norm()))
                z.append(max(cos, 0.0))
            total = sum(z)
            h = torch.zeros(num_c, dtype=torch.float64)
            for i in range(num_m):
                a = z[i] / total if total > 0 else 0.0
                attention[b, k, i] = a
                h += a * visual[b, :, i]
            logit = float(weight[k] @ h) + float(bias[k])
            probs[b, k] = 1 / (1 + math.exp(-logit))
    return attention, probs


def _head(**kwargs):
    torch.manual_seed(0)
    head = CMAHead(num_classes=N, in_channels=C, embed_dim=D, **kwargs)
    with torch.no_grad():  # non-trivial classifiers
        head.branches[0].weight.normal_()
        head.branches[0].bias.normal_()
    return head


@pytest.mark.parametrize('spatial', [(3, 4), (6, )])
def test_head_matches_loop_reference(spatial):
    head = _head()
    emb = torch.randn(N, D)
    head.set_label_state('embedding', emb)
    visual = torch.randn(2, C, *spatial)
    projected = torch.randn(2, D, *spatial)
    feats = (CMTFeature(visual, projected), )
    ref_attention, ref_probs = reference_cma(visual.flatten(2),
                                             projected.flatten(2), emb,
                                             head.branches[0].weight,
                                             head.branches[0].bias)
    torch.testing.assert_close(torch.sigmoid(head(feats)).double(),
                               ref_probs,
                               atol=1e-5,
                               rtol=1e-5)
    attention, = head.get_attention(feats)  # one scale: a list of one
    assert attention.shape == (2, N, *spatial)
    torch.testing.assert_close(attention.flatten(2).double(),
                               ref_attention,
                               atol=1e-6,
                               rtol=1e-5)
    # The reference pools the visual features: a head that pooled the
    # projected ones would differ (the channel counts even differ).
    samples = head.predict(feats)
    torch.testing.assert_close(torch.stack([s.pred_score
                                            for s in samples]).double(),
                               ref_probs,
                               atol=1e-5,
                               rtol=1e-5)


def test_attention_is_a_distribution():
    head = _head()
    head.set_label_state('embedding', torch.randn(N, D))
    feats = (CMTFeature(torch.randn(3, C, 5, 5), torch.randn(3, D, 5, 5)), )
    attention, = head.get_attention(feats)
    assert (attention >= 0).all()
    sums = attention.sum(dim=(2, 3))
    # A label whose cosines are all <= 0 would give 0; random 3-d features
    # over 25 positions always have some positive cosine.
    torch.testing.assert_close(sums, torch.ones_like(sums))


def test_all_zero_scores_stay_finite():
    head = _head()
    # Every embedding points away from every (positive) projected feature:
    # all cosines < 0, ReLU kills everything.
    head.set_label_state('embedding', -torch.rand(N, D) - 0.1)
    visual = torch.randn(2, C, 4, 4, requires_grad=True)
    projected = (torch.rand(2, D, 4, 4) + 0.1).requires_grad_()
    feats = (CMTFeature(visual, projected), )
    attention, = head.get_attention(feats)
    assert torch.equal(attention, torch.zeros_like(attention))
    logits = head(feats)
    torch.testing.assert_close(logits,
                               head.branches[0].bias.expand(2, N).detach())
    logits.sum().backward()
    assert torch.isfinite(visual.grad).all()
    assert torch.isfinite(projected.grad).all()
    # Pure function: an all-zero row normalises to zeros, others to 1.
    z = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 3.0, 0.0]]])
    torch.testing.assert_close(
        normalize_attention(z),
        torch.tensor([[[0.0, 0.0, 0.0], [0.25, 0.75, 0.0]]]))


def test_cosine_scores_function():
    projected = torch.tensor([[[1.0, 0.0, -2.0], [0.0, 1.0, 0.0]]])  # (1,2,3)
    emb = torch.tensor([[1.0, 1.0]])
    scores = cosine_attention_scores(projected, emb)
    r = 1 / math.sqrt(2)
    torch.testing.assert_close(scores, torch.tensor([[[r, r, 0.0]]]))


def test_masked_padding_changes_nothing():
    head = _head().eval()
    head.set_label_state('embedding', torch.randn(N, D))
    visual, projected = torch.randn(2, C, 6), torch.randn(2, D, 6)
    pad_v, pad_p = torch.randn(2, C, 3) * 10, torch.randn(2, D, 3) * 10
    mask = torch.tensor([[True] * 6 + [False] * 3] * 2)
    real = (CMTFeature(visual, projected), )
    padded = (CMTFeature(torch.cat([visual, pad_v], 2),
                         torch.cat([projected, pad_p], 2), mask), )
    att_real, = head.get_attention(real)
    att_padded, = head.get_attention(padded)
    torch.testing.assert_close(att_padded[..., :6], att_real)
    assert torch.equal(att_padded[..., 6:], torch.zeros(2, N, 3))
    torch.testing.assert_close(head(padded), head(real))
    # Without the mask the padding would change the result.
    unmasked = (padded[0]._replace(mask=None), )
    assert not torch.allclose(head(unmasked), head(real))


def test_masked_reference_with_ragged_lengths():
    head = _head()
    emb = torch.randn(N, D)
    head.set_label_state('embedding', emb)
    visual, projected = torch.randn(2, C, 5), torch.randn(2, D, 5)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    _, ref = reference_cma(visual, projected, emb, head.branches[0].weight,
                           head.branches[0].bias, mask)
    got = torch.sigmoid(head((CMTFeature(visual, projected, mask), )))
    torch.testing.assert_close(got.double(), ref, atol=1e-5, rtol=1e-5)


def test_self_attention_differs_only_in_eq7(monkeypatch):
    cosine = _head()
    emb = torch.randn(N, D)
    cosine.set_label_state('embedding', emb)
    selfatt = _head(attention='self')
    assert cosine.label_state_shapes() == {'embedding': (N, D)}
    assert selfatt.label_state_shapes() == {}
    assert not hasattr(selfatt, 'label_embedding')
    assert isinstance(selfatt.branches[0].attention_scores, SelfAttention)
    feats = (CMTFeature(torch.randn(2, C, 3, 3), torch.randn(2, D, 3, 3)), )

    # Eq. 7 of the ablation: sigmoid of a 1x1 conv of the visual features.
    conv = selfatt.branches[0].attention_scores.conv
    z = torch.sigmoid(
        torch.einsum('nc,bcm->bnm', conv.weight[:, :,
                                                0], feats[0][0].flatten(2)) +
        conv.bias[:, None])
    torch.testing.assert_close(
        selfatt.get_attention(feats)[0].flatten(2),
        z / z.sum(-1, keepdim=True))

    # Same classifiers + eq. 7 swapped for the cosine: identical outputs.
    with torch.no_grad():
        selfatt.branches[0].weight.copy_(cosine.branches[0].weight)
        selfatt.branches[0].bias.copy_(cosine.branches[0].bias)
    assert not torch.allclose(selfatt(feats), cosine(feats))
    monkeypatch.setattr(
        SelfAttention, 'forward',
        lambda self, visual, projected, embeddings: cosine_attention_scores(
            projected, emb))
    torch.testing.assert_close(selfatt(feats), cosine(feats))
    torch.testing.assert_close(
        selfatt.loss(feats, [DataSample().set_gt_label([0, 2])] * 2),
        cosine.loss(feats, [DataSample().set_gt_label([0, 2])] * 2))


def test_missing_embeddings_raise():
    head = _head()
    feats = (CMTFeature(torch.randn(2, C, 3, 3), torch.randn(2, D, 3, 3)), )
    samples = [DataSample().set_gt_label([1]) for _ in range(2)]
    with pytest.raises(RuntimeError, match='label embeddings .* never '
                       'filled.*LabelStateHook'):
        head.loss(feats, samples)
    with pytest.raises(RuntimeError, match='never filled'):
        head.predict(feats)
    # The self-attention ablation needs no embeddings, nor a projection.
    selfatt = _head(attention='self')
    assert torch.isfinite(selfatt.loss(feats, samples)['loss'])
    no_projection = (CMTFeature(feats[0].visual, None), )
    assert torch.isfinite(selfatt.loss(no_projection, samples)['loss'])
    head.set_label_state('embedding', torch.randn(N, D))
    with pytest.raises(ValueError, match='CMTNeck embed_dim'):
        head(no_projection)


def test_wrong_input_types_say_what_is_expected():
    head = _head()
    head.set_label_state('embedding', torch.randn(N, D))
    visual, projected = torch.randn(2, C, 3, 3), torch.randn(2, D, 3, 3)
    for bad in (visual, ((visual, projected), ), (visual, )):
        with pytest.raises(TypeError, match='CMTFeature'):
            head(bad)


def test_label_state_filled_but_unusable_raises():
    head = _head()
    feats = (CMTFeature(torch.randn(2, C, 3, 3), torch.randn(2, D, 3, 3)), )
    with pytest.raises(ValueError, match='all zero'):
        head.set_label_state('embedding', torch.zeros(N, D))
    with pytest.raises(ValueError, match='NaN'):
        head.set_label_state('embedding', torch.full((N, D), float('nan')))
    with pytest.raises(ValueError, match=r'shape \(4, 3\)'):
        head.set_label_state('embedding', torch.ones(N, D + 1))
    # A checkpoint that marks the state filled but holds zeros.
    state = head.state_dict()
    state['label_embedding_ready'] = torch.tensor(True)
    head.load_state_dict(state)
    with pytest.raises(RuntimeError, match='unusable.*all zero'):
        head(feats)
    state['label_embedding'] = torch.randn(N, D)
    head.load_state_dict(state)
    assert torch.isfinite(head(feats)).all()


def test_loss_kind_must_match_head_output():
    with pytest.raises(ValueError, match='FusedScaleBCELoss'):
        MSCMAHead(N, (C, C), D, loss=dict(type='ClassImbalanceBCELoss'))
    with pytest.raises(TypeError, match='MSCMAHead'):
        CMAHead(N, (C, C), D)
    # A single-scale head's logits are not per-scale logits.
    head = _head(loss=dict(type='FusedScaleBCELoss'))
    head.set_label_state('embedding', torch.randn(N, D))
    feats = (CMTFeature(torch.randn(2, C, 3, 3), torch.randn(2, D, 3, 3)), )
    with pytest.raises(ValueError, match=r'per-scale logits \(B, S, N\)'):
        head.loss(feats, [DataSample().set_gt_label([0])] * 2)


def test_cma_loss_is_bce_on_logits_and_topk():
    head = _head(topk=2)
    head.set_label_state('embedding', torch.randn(N, D))
    feats = (CMTFeature(torch.randn(2, C, 3, 3), torch.randn(2, D, 3, 3)), )
    samples = [
        DataSample().set_gt_label([0, 3]),
        DataSample().set_gt_label([1])
    ]
    target = torch.tensor([[1.0, 0, 0, 1], [0, 1, 0, 0]])
    expected = F.binary_cross_entropy_with_logits(
        head(feats), target, reduction='sum') / 2
    torch.testing.assert_close(head.loss(feats, samples)['loss'], expected)
    out = head.predict(feats)
    for sample in out:
        assert len(sample.pred_label) == 2
        assert set(sample.pred_label.tolist()) == set(
            sample.pred_score.topk(2).indices.tolist())


def test_ms_cma_fuses_branch_probabilities():
    torch.manual_seed(0)
    channels = (5, 6, 7)
    head = MSCMAHead(num_classes=N, in_channels=channels, embed_dim=D)
    emb = torch.randn(N, D)
    head.set_label_state('embedding', emb)
    assert [k for k in head.state_dict() if 'label_embedding' in k
            ] == ['label_embedding', 'label_embedding_ready']
    spatial = [(6, 6), (3, 3), (2, 2)]
    # A leading extra item (e.g. an unused backbone stage) is ignored.
    feats = (CMTFeature(torch.randn(2, 3, 9, 9), torch.randn(
        2, D, 9, 9)), ) + tuple(
            CMTFeature(torch.randn(2, c, *s), torch.randn(2, D, *s))
            for c, s in zip(channels, spatial))
    singles = []
    for branch, c, item in zip(head.branches, channels, feats[1:]):
        single = CMAHead(num_classes=N, in_channels=c, embed_dim=D)
        single.branches[0].load_state_dict(branch.state_dict())
        single.set_label_state('embedding', emb)
        singles.append(torch.sigmoid(single((item, ))))
    # The head's logits are those of the mean of the branch probabilities.
    fused = torch.sigmoid(head(feats))
    torch.testing.assert_close(fused, torch.stack(singles).mean(0))
    scores = torch.stack([s.pred_score for s in head.predict(feats)])
    torch.testing.assert_close(scores, fused)
    attention = head.get_attention(feats)
    assert [tuple(a.shape) for a in attention] == [(2, N, *s) for s in spatial]
    # Loss on the fused probabilities.
    samples = [DataSample().set_gt_label([0]), DataSample().set_gt_label([2])]
    target = torch.tensor([[1.0, 0, 0, 0], [0, 0, 1, 0]])
    expected = F.binary_cross_entropy(fused, target, reduction='sum') / 2
    torch.testing.assert_close(head.loss(feats, samples)['loss'], expected)


def _tiny_model(head):
    return MODELS.build(
        dict(type='ImageClassifier',
             backbone=dict(type='ResNet',
                           depth=18,
                           base_channels=8,
                           stem_channels=8,
                           out_indices=head.pop('out_indices')),
             neck=dict(type='CMTNeck',
                       in_channels=head.pop('neck_in'),
                       reduced_channels=16,
                       embed_dim=8,
                       cmt_channels=(8, ),
                       extra_stage=head.pop('extra_stage')),
             head=head))


@pytest.mark.parametrize('head', [
    dict(type='MSCMAHead',
         in_channels=(16, 16, 16),
         out_indices=(2, 3),
         neck_in=(32, 64),
         extra_stage=dict(out_channels=32)),
    dict(type='CMAHead',
         in_channels=16,
         out_indices=(3, ),
         neck_in=64,
         extra_stage=None),
])
@pytest.mark.slow
def test_image_classifier_integration(head):
    torch.manual_seed(0)  # one thread: tests/conftest.py
    model = _tiny_model(dict(num_classes=5, embed_dim=8, **head))
    # One shared embedding buffer, owned by the head.
    assert [n for n, _ in label_state_modules(model)] == ['head']
    # Non-negative, like ASGE's (final ReLU); with random signs a label whose
    # cosines are all <= 0 gets no attention (eq. 7) and cannot learn.
    model.head.set_label_state('embedding', torch.rand(5, 8))
    inputs = torch.randn(2, 3, 64, 64)
    samples = [
        DataSample().set_gt_label([0, 3]),
        DataSample().set_gt_label([1])
    ]

    losses = model(inputs, samples, mode='loss')
    assert torch.isfinite(losses['loss'])
    losses['loss'].backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)

    # The best prediction that ignores the image is each label's frequency
    # f_k in the batch; it costs sum_k H(f_k) per sample (3 ln 2 here). The
    # model must fit the fixed batch far below it, i.e. tell the images
    # apart. With manual_seed(0) to (15) above, the final loss stays below
    # 0.19 (MS-CMA) and 0.002 (CMA), against a bound of 0.52.
    freq = torch.tensor([[1.0, 0, 0, 1, 0], [0, 1, 0, 0, 0]]).mean(0)
    constant_loss = -(torch.xlogy(freq, freq) +
                      torch.xlogy(1 - freq, 1 - freq)).sum().item()
    assert constant_loss == pytest.approx(3 * math.log(2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(80):
        optimizer.zero_grad()
        loss = model(inputs, samples, mode='loss')['loss']
        loss.backward()
        optimizer.step()
    assert loss.item() < constant_loss / 4

    model.eval()
    with torch.no_grad():
        predictions = model(inputs, [DataSample(), DataSample()],
                            mode='predict')
    for sample in predictions:
        assert sample.pred_score.shape == (5, )
        assert ((sample.pred_score >= 0) & (sample.pred_score <= 1)).all()
