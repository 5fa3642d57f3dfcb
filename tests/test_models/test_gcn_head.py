"""GCNClsHead, the classifier of ML-GCN and KSSNet, and ML-GCN as a
configuration of the GCN family (LateralGCNBackbone without lateral stages):
logits against slow references, gradients, ML-GCN's loss scale, errors."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from mmcma.models.heads import GCNClsHead
from mmcma.models.losses import MeanOverLabelsLoss
from mmcma.models.utils import GCNFeature
from tests.helpers.gcn_models import gcn_model
from tests.helpers.references import adjacency_loops, gcn_loops

N = 5


def mlgcn(loss=dict(type='MeanOverLabelsLoss'), fill=True):
    """A tiny ML-GCN: ResNet, GCN 4 -> 7 -> 64, no lateral connection."""
    return gcn_model((7, 64), (), N, fill=fill, head=dict(loss=loss))


def samples(labels):
    return [DataSample().set_gt_label(torch.tensor(row)) for row in labels]


def targets(labels):
    target = torch.zeros(len(labels), N)
    for i, row in enumerate(labels):
        target[i, row] = 1
    return target


def test_mlgcn_logits_are_max_pooled_features_times_gcn_output():
    """ML-GCN: the plain backbone's C5, max-pooled, times the classifiers
    of the 2-layer GCN over gen_adj of the raw graph."""
    model = mlgcn().eval()
    gcn = model.backbone.gcn
    images = torch.randn(2, 3, 32, 32)
    classifiers = gcn_loops(
        gcn.label_state('embedding').double().numpy(),
        adjacency_loops(gcn.label_state('graph').double().numpy()),
        [w.detach().double().numpy() for w in gcn.gcn_weights], 0.2)
    with torch.no_grad():
        # No lateral stage: the backbone's features are untouched.
        plain = model.backbone.backbone(images)[0]
        logits = model(images)
    pooled = plain.double().amax(dim=(2, 3)).numpy()
    np.testing.assert_allclose(logits.numpy(), pooled @ classifiers.T,
                               rtol=1e-4, atol=1e-5)
    assert logits.shape == (2, N)


def test_gradients_reach_gcn_weights_and_backbone():
    model = mlgcn().train()
    loss = model(torch.randn(3, 3, 32, 32), samples([[0], [1, 3], [4]]),
                 mode='loss')['loss']
    loss.backward()
    assert model.backbone.backbone.conv1.weight.grad.abs().sum() > 0
    for weight in model.backbone.gcn.gcn_weights:
        assert weight.grad is not None and weight.grad.abs().sum() > 0
    # The label state is not trained.
    assert not any('label_' in name for name, _ in model.named_parameters())


@pytest.mark.parametrize('inner', [
    dict(type='CrossEntropyLoss', use_sigmoid=True),
    dict(type='ClassImbalanceBCELoss', beta=0.0),
])
def test_loss_is_multilabel_soft_margin(inner):
    """ML-GCN's loss: torch's MultiLabelSoftMarginLoss, the mean over batch
    and labels, with either inner BCE."""
    model = mlgcn(loss=dict(type='MeanOverLabelsLoss', loss=inner))
    images = torch.randn(4, 3, 32, 32)
    labels = [[0, 2], [1], [3, 4], [2]]
    loss = model(images, samples(labels), mode='loss')['loss']
    expected = nn.MultiLabelSoftMarginLoss()(model(images), targets(labels))
    torch.testing.assert_close(loss, expected)


def test_mean_over_labels_divides_the_inner_loss_by_n():
    init_default_scope('mmpretrain')
    logits, target = torch.randn(3, N), (torch.rand(3, N) > 0.5).float()
    inner = MODELS.build(dict(type='CrossEntropyLoss', use_sigmoid=True))
    for kwargs in (dict(avg_factor=3), dict(reduction_override='none'),
                   dict(weight=torch.tensor([1.0, 0.0, 2.0]))):
        torch.testing.assert_close(
            MeanOverLabelsLoss()(logits, target, **kwargs),
            inner(logits, target, **kwargs) / N)


def test_unfilled_state_and_wrong_channels_are_clear_errors():
    with pytest.raises(RuntimeError, match='never filled'):
        mlgcn(fill=False)(torch.randn(1, 3, 32, 32))
    head = GCNClsHead(num_classes=3, in_channels=4)
    with pytest.raises(ValueError, match='expects 4 feature channels'):
        head((GCNFeature(torch.randn(1, 5, 2, 2), torch.randn(3, 4)), ))


def test_head_errors_and_loss():
    head = GCNClsHead(num_classes=3, in_channels=4)
    with pytest.raises(TypeError, match='GCNFeature'):
        head((torch.randn(2, 4, 2, 2), ))
    with pytest.raises(ValueError, match='classifiers of shape'):
        head((GCNFeature(torch.randn(2, 4, 2, 2), torch.randn(5, 4)), ))
    with pytest.raises(ValueError, match='pool'):
        GCNClsHead(num_classes=3, in_channels=4, pool='sum')
    # ML-GCN's MultiLabelSoftMarginLoss: the mean over batch and labels.
    feats = (GCNFeature(torch.randn(2, 4, 3, 3), torch.randn(3, 4)), )
    target = torch.tensor([[1., 0, 0], [0, 1, 1]])
    torch.testing.assert_close(
        head.loss(feats, samples([[0], [1, 2]]))['loss'],
        nn.MultiLabelSoftMarginLoss()(head(feats), target))


def test_avg_pool_ignores_padding():
    head = GCNClsHead(num_classes=2, in_channels=3, pool='avg')
    feat = torch.randn(2, 3, 5)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    pooled = head.pre_logits((GCNFeature(feat, torch.randn(2, 3), mask), ))
    torch.testing.assert_close(pooled[0], feat[0].mean(dim=1))
    torch.testing.assert_close(pooled[1], feat[1, :, :2].mean(dim=1))
    head.pool = 'max'
    pooled = head.pre_logits((GCNFeature(feat, torch.randn(2, 3), mask), ))
    torch.testing.assert_close(pooled[1], feat[1, :, :2].amax(dim=1))
