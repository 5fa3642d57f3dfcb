"""LateralGCNBackbone (KSSNet's CNN side): the lateral connection against a
slow reference, gradients through the laterals, hooks that leave nothing
behind, clear errors, and the wrapped backbone inside mmpretrain's
classifier."""
import copy
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from mmcma.models.backbones import LateralConnection, lateral_hooks
from mmcma.models.utils import GCNFeature
from tests.helpers.gcn_models import gcn_model

N = 5
WIDTHS = (8, 16, 32, 64)  # the tiny ResNet-18's stage widths


def lateral_loops(x, embedding, weight, bias):
    """Eq. 7 at every pixel: each label's correlation with the pixel's
    feature, mapped back by the 1 x 1 conv, plus the pixel's feature."""
    batch, channels, height, width = x.shape
    labels = len(embedding)
    act = np.tanh(embedding)
    y = np.empty_like(x)
    for b in range(batch):
        for i in range(height):
            for j in range(width):
                corr = [sum(x[b, c, i, j] * act[n, c] for c in range(channels))
                        for n in range(labels)]
                for c in range(channels):
                    y[b, c, i, j] = x[b, c, i, j] + bias[c] + sum(
                        weight[c, n] * corr[n] for n in range(labels))
    return y


def make_lateral(channels=3, labels=4, activation='tanh'):
    torch.manual_seed(0)
    return LateralConnection(labels, channels, activation,
                             zero_init=False).double()


def test_lateral_matches_pixel_loops():
    lateral = make_lateral()
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    embedding = torch.randn(4, 3, dtype=torch.float64)
    expected = lateral_loops(x.numpy(), embedding.numpy(),
                             lateral.proj.weight[:, :, 0, 0].detach().numpy(),
                             lateral.proj.bias.detach().numpy())
    np.testing.assert_allclose(
        lateral(x, embedding).detach().numpy(), expected, rtol=1e-12)


def test_lateral_jacobian_is_identity_plus_projection():
    """At one position dy/dx = I + W_g tanh(E) (C x C): the gradient reaches
    the feature through the skip and through the labels."""
    lateral = make_lateral()
    embedding = torch.randn(4, 3, dtype=torch.float64)
    x = torch.randn(1, 3, 1, 1, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(
        lambda v: lateral(v.view(1, 3, 1, 1), embedding).flatten(),
        x.flatten())
    weight = lateral.proj.weight[:, :, 0, 0].detach()
    torch.testing.assert_close(
        jac, torch.eye(3, dtype=torch.float64) + weight @ embedding.tanh())


def test_lateral_on_sequences_and_clips_is_the_2d_one():
    """(B, C, T) gives what the 2-D LC gives on T x 1 maps; a clip
    (B, C, T, H, W) what it gives frame by frame."""
    lateral = make_lateral(activation='sigmoid')
    embedding = torch.randn(4, 3, dtype=torch.float64)
    seq = torch.randn(2, 3, 7, dtype=torch.float64)
    torch.testing.assert_close(lateral(seq, embedding),
                               lateral(seq[..., None], embedding)[..., 0])
    clip = torch.randn(2, 3, 4, 2, 5, dtype=torch.float64)
    frames = torch.stack([lateral(clip[:, :, t], embedding)
                          for t in range(4)], dim=2)
    torch.testing.assert_close(lateral(clip, embedding), frames)
    # The sigmoid is used, not tanh.
    tanh = make_lateral()
    assert not torch.allclose(tanh(seq, embedding), lateral(seq, embedding))


def test_lateral_zero_init_is_identity():
    lateral = LateralConnection(4, 3)
    x = torch.randn(2, 3, 4, 4)
    assert torch.equal(lateral(x, torch.randn(4, 3)), x)
    with pytest.raises(ValueError, match='activation'):
        LateralConnection(4, 3, activation='relu')


# ------------------------------------------------------- wrapped backbone
def build_model(stages=('layer1', 'layer2', 'layer3'), zero_init=False,
                channels=WIDTHS, fill=True):
    return gcn_model(channels, stages, N, fill=fill,
                     lateral=dict(zero_init=zero_init))


def hook_count(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks)
               for m in model.modules())


def test_logits_are_pooled_feature_times_last_embeddings():
    model = build_model().eval()
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        [feature] = model.extract_feat(images)
        assert isinstance(feature, GCNFeature)
        classifiers = model.backbone.gcn()[-1]
        torch.testing.assert_close(feature.classifiers, classifiers)
        expected = feature.feat.amax(dim=(2, 3)) @ classifiers.t()
        torch.testing.assert_close(model(images), expected)
        # The laterals change the CNN's features: not a plain ResNet.
        plain = model.backbone.backbone(images)[0]
        assert not torch.allclose(plain, feature.feat, atol=1e-3)


def test_lateral_changes_exactly_the_hooked_stage_outputs():
    """The map leaving layer2 is the LC of the map layer2 computes."""
    model = build_model().eval()
    resnet = model.backbone.backbone
    seen = {}
    resnet.layer3.register_forward_pre_hook(
        lambda m, args: seen.setdefault('in', args[0]))
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        model.extract_feat(images)
        embeddings = model.backbone.gcn()
        x = resnet.maxpool(resnet.relu(resnet.bn1(resnet.conv1(images))))
        x = model.backbone.laterals[0](resnet.layer1(x), embeddings[0])
        x = model.backbone.laterals[1](resnet.layer2(x), embeddings[1])
    torch.testing.assert_close(seen['in'], x)


def test_gradients_flow_through_the_laterals():
    """A loss on the CNN's feature alone (classifiers unused) reaches the
    GCN's hidden layers only through the lateral connections."""
    model = build_model().train()
    feature = model.extract_feat(torch.randn(2, 3, 32, 32))[0].feat
    feature.square().mean().backward()
    weights = list(model.backbone.gcn.gcn_weights)
    for weight in weights[:3]:  # E1..E3 enter layer1..layer3
        assert weight.grad is not None and weight.grad.abs().sum() > 0
    assert weights[3].grad is None  # E4 only classifies
    for lateral in model.backbone.laterals:
        assert lateral.proj.weight.grad.abs().sum() > 0
    assert model.backbone.backbone.conv1.weight.grad.abs().sum() > 0
    # Without laterals nothing of the GCN takes part.
    model = build_model(stages=()).train()
    model.extract_feat(torch.randn(2, 3, 32, 32))[0].feat.sum().backward()
    assert all(w.grad is None for w in model.backbone.gcn.gcn_weights)


def test_gradients_reach_earlier_stages_through_the_laterals():
    """At layer1's output x the gradient is the one at the LC's output y
    plus its path through the labels: dL/dx = dL/dy + tanh(E)^T W_g^T dL/dy
    at every position."""
    model = build_model(stages=('layer1', )).train()
    resnet, grads = model.backbone.backbone, {}
    def keep_x(module, args, x):
        x.register_hook(lambda grad: grads.setdefault('x', grad))

    def keep_y(module, args):
        args[0].register_hook(lambda grad: grads.setdefault('y', grad))

    # Registered before the lateral hook: sees layer1's own output x.
    resnet.layer1.register_forward_hook(keep_x)
    resnet.layer2.register_forward_pre_hook(keep_y)
    model.extract_feat(torch.randn(2, 3, 32, 32))[0].feat.sum().backward()
    weight = model.backbone.laterals[0].proj.weight[:, :, 0, 0].detach()
    act = model.backbone.gcn()[0].detach().tanh()  # (N, C)
    through_labels = torch.einsum('nc,dn,bdhw->bchw', act, weight,
                                  grads['y'])
    assert through_labels.abs().max() > 1e-3 * grads['y'].abs().max()
    torch.testing.assert_close(grads['x'], grads['y'] + through_labels)


def test_runner_init_keeps_the_zero_laterals_and_the_gcn_init():
    """init_weights (what the runner calls) initialises the wrapped backbone
    by its own init_cfg and leaves g at zero and the GCN weights as drawn:
    the model starts as the plain backbone plus ML-GCN's classifier."""
    model = build_model(zero_init=True)
    gcn = [w.detach().clone() for w in model.backbone.gcn.gcn_weights]
    model.init_weights()
    for lateral in model.backbone.laterals:
        assert not lateral.proj.weight.any() and not lateral.proj.bias.any()
    for before, after in zip(gcn, model.backbone.gcn.gcn_weights):
        assert torch.equal(before, after)
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        feature = model.eval().extract_feat(images)[0].feat
        torch.testing.assert_close(feature, model.backbone.backbone(images)[0])


def test_hooks_are_gone_after_each_forward_and_after_errors():
    model = build_model().eval()
    before = hook_count(model)
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        first = model(images)
        second = model(images)
    torch.testing.assert_close(first, second)  # laterals not stacked up
    assert hook_count(model) == before == 0
    wrong = build_model(channels=(8, 8, 32, 64))
    with pytest.raises(ValueError, match=r"'layer2' outputs 16 channels but "
                       r'GCN layer 2 gives 8-d'):
        wrong(images)
    assert hook_count(wrong) == 0


def test_deepcopy_pickle_and_strict_state_dict_round_trip():
    model = build_model().eval()
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(images)
        copied = copy.deepcopy(model)
        torch.testing.assert_close(copied(images), expected)
        # The copy is independent of the original.
        copied.backbone.laterals[0].proj.weight.add_(1)
        assert not torch.allclose(copied(images), expected)
        torch.testing.assert_close(model(images), expected)
        torch.testing.assert_close(pickle.loads(pickle.dumps(model))(images),
                                   expected)
        state = model.state_dict()
        assert 'backbone.backbone.layer1.0.conv1.weight' in state
        assert 'backbone.gcn.label_graph' in state
        assert 'backbone.laterals.2.proj.weight' in state
        fresh = build_model(fill=False)
        fresh.load_state_dict(state, strict=True)
        torch.testing.assert_close(fresh.eval()(images), expected)


def test_clear_errors():
    with pytest.raises(ValueError, match=r"'res2' is not a module of ResNet"
                       r'.*layer1, layer2, layer3, layer4'):
        build_model(stages=('res2', ))
    with pytest.raises(ValueError, match='repeat'):
        build_model(stages=('layer1', 'layer1'))
    with pytest.raises(ValueError, match='5 lateral stages'):
        build_model(stages=('layer1', 'layer2', 'layer3', 'layer4',
                            'layer4.0'))
    with pytest.raises(RuntimeError, match='never filled'):
        build_model(fill=False)(torch.randn(1, 3, 32, 32))
    # A module whose output is not one map (here a tuple).
    backbone = nn.Sequential(nn.Identity())
    backbone[0].forward = lambda x: (x, x)
    with pytest.raises(TypeError, match=r"'0' \(Identity\) must output one "
                       'feature map'):
        with lateral_hooks(backbone, ['0'], [LateralConnection(2, 3)],
                           [torch.randn(2, 3)]):
            backbone(torch.randn(1, 3, 2, 2))
    assert hook_count(backbone) == 0
