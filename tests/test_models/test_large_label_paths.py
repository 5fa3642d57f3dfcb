"""The paths heads take from 1,024 labels on: CMA's eq. 9-10 in one product
(eq. 7-10 in one chunked node for ReLU scores) and KSSNet's lateral
connection with ``g`` composed first give the logits, maps and gradients of
the paths as written, and smaller heads (the demo's 12 labels) never take
them."""
import importlib

import pytest
import torch

from mmcma.models.backbones import LateralConnection
from mmcma.models.heads import cma_head
from mmcma.models.heads.cma_head import (CMAHead, attended_logits,
                                         class_wise_logits,
                                         class_wise_pooling)
from mmcma.models.heads.ms_cma_head import MSCMAHead
from mmcma.models.utils import CMTFeature

N, D = 6, 4
# The module (the package re-exports a function of the same name).
lc_module = importlib.import_module(
    'mmcma.models.backbones.lateral_connection')


def test_attended_logits_equal_pooling_then_classifiers():
    torch.manual_seed(0)
    attention = torch.rand(3, N, 7, dtype=torch.float64, requires_grad=True)
    visual = torch.randn(3, 5, 7, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(N, 5, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(N, dtype=torch.float64, requires_grad=True)
    inputs = (attention, visual, weight, bias)
    fused = attended_logits(*inputs)
    written = class_wise_logits(class_wise_pooling(attention, visual),
                                weight, bias)
    torch.testing.assert_close(fused, written, rtol=1e-12, atol=1e-12)
    grads = [torch.autograd.grad((out * torch.arange(N)).sum(), inputs)
             for out in (fused, written)]
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def _feats(channels, spatial):
    return tuple(
        CMTFeature(torch.randn(2, c, *s), torch.randn(2, D, *s))
        for c, s in zip(channels, spatial))


@pytest.mark.parametrize('score', ['relu', 'softmax'])
@pytest.mark.parametrize('kind', ['cma', 'ms-cma'])
def test_heads_from_the_threshold_on_give_the_same_logits(
        kind, score, monkeypatch):
    """ReLU scores take chunked_cosine_logits, softmax scores
    attended_logits."""
    torch.manual_seed(0)
    if kind == 'cma':
        head = CMAHead(num_classes=N, in_channels=5, embed_dim=D,
                       score=score)
        feats = _feats((5, ), [(3, 4)])
    else:
        head = MSCMAHead(num_classes=N, in_channels=(5, 6, 7), embed_dim=D,
                         score=score)
        feats = _feats((5, 6, 7), [(6, 6), (3, 3), (2, 2)])
    head.set_label_state('embedding', torch.randn(N, D))
    for branch in head.branches:
        with torch.no_grad():
            branch.weight.normal_()
            branch.bias.normal_()
    results = []
    for threshold in (N + 1, N):  # as written, then fused
        monkeypatch.setattr(cma_head, 'FUSED_MIN_LABELS', threshold)
        head.zero_grad()
        logits = head(feats)
        (logits * torch.linspace(-1, 1, N)).sum().backward()
        results.append((logits.detach(),
                        [p.grad.clone() for p in head.parameters()]))
    (written, written_grads), (fused, fused_grads) = results
    torch.testing.assert_close(fused, written, rtol=1e-5, atol=1e-6)
    for a, b in zip(fused_grads, written_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('score, large_path',
                         [('relu', 'chunked_cosine_logits'),
                          ('softmax', 'attended_logits')])
def test_small_heads_keep_the_path_as_written(score, large_path,
                                              monkeypatch):
    """The demo's 12 labels: neither large-label path is called (they raise
    here), until the threshold is lowered to 12: then the score's path is.
    """
    def refuse(name):
        def raise_(*args):
            raise AssertionError(f'fused path {name} taken')
        return raise_

    for name in ('attended_logits', 'chunked_cosine_logits'):
        monkeypatch.setattr(cma_head, name, refuse(name))
    head = CMAHead(num_classes=12, in_channels=5, embed_dim=D, score=score)
    head.set_label_state('embedding', torch.randn(12, D))
    feats = _feats((5, ), [(2, 2)])
    head(feats)
    monkeypatch.setattr(cma_head, 'FUSED_MIN_LABELS', 12)
    with pytest.raises(AssertionError, match=f'fused path {large_path}'):
        head(feats)


@pytest.mark.parametrize('positions', [(3, 4), (5, ), (2, 2, 3)])
def test_composed_lateral_equals_eq7(positions, monkeypatch):
    torch.manual_seed(0)
    lateral = LateralConnection(N, 3, zero_init=False).double()
    x = torch.randn(2, 3, *positions, dtype=torch.float64,
                    requires_grad=True)
    embedding = torch.randn(N, 3, dtype=torch.float64, requires_grad=True)
    results = []
    for threshold in (N + 1, N):  # as written, then composed
        monkeypatch.setattr(lc_module, 'COMPOSED_MIN_LABELS', threshold)
        lateral.zero_grad()
        y = lateral(x, embedding)
        grads = torch.autograd.grad((y * y).sum(), (x, embedding,
                                                    lateral.proj.weight,
                                                    lateral.proj.bias))
        results.append((y.detach(), grads))
    (written, written_grads), (composed, composed_grads) = results
    assert composed.shape == x.shape
    torch.testing.assert_close(composed, written, rtol=1e-12, atol=1e-12)
    for a, b in zip(composed_grads, written_grads):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_small_laterals_keep_eq7_as_written(monkeypatch):
    def refuse(*args):
        raise AssertionError('composed path taken')

    monkeypatch.setattr(lc_module, 'composed_lateral_connection', refuse)
    lateral = LateralConnection(12, 3)
    x, embedding = torch.randn(1, 3, 2, 2), torch.randn(12, 3)
    lateral(x, embedding)
    monkeypatch.setattr(lc_module, 'COMPOSED_MIN_LABELS', 12)
    with pytest.raises(AssertionError, match='composed'):
        lateral(x, embedding)
