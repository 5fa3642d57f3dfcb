import copy

import pytest
import torch
from mmpretrain.models.backbones.resnet import Bottleneck
from mmpretrain.registry import MODELS
from torch import nn

from mmcma.models.necks.cmt import CMTNeck
from mmcma.models.utils import CMTFeature, MaskedBatchNorm2d, MaskedFeature


def _shapes(outs):
    assert all(isinstance(item, CMTFeature) for item in outs)
    return [(tuple(item.visual.shape), tuple(item.projected.shape))
            for item in outs]


def test_single_scale_uses_last_input():
    neck = CMTNeck(in_channels=32, reduced_channels=16, embed_dim=8)
    feats = (torch.randn(2, 16, 8, 8), torch.randn(2, 32, 4, 4))
    outs = neck(feats)
    assert _shapes(outs) == [((2, 16, 4, 4), (2, 8, 4, 4))]


def test_cmt_stack_structure():
    neck = CMTNeck(in_channels=32,
                   reduced_channels=16,
                   embed_dim=8,
                   cmt_channels=(12, 10))
    layers = list(neck.transformers[0])
    assert [m.conv.out_channels for m in layers] == [12, 10, 8]
    for m in [neck.reductions[0], *layers]:
        assert m.conv.kernel_size == (1, 1)
        assert isinstance(m.norm, torch.nn.BatchNorm2d)
        assert isinstance(m.activate, torch.nn.ReLU)
    single = CMTNeck(in_channels=32,
                     reduced_channels=16,
                     embed_dim=8,
                     cmt_channels=())
    assert len(single.transformers[0]) == 1


def test_multi_scale_per_scale_widths_and_extra_stage():
    neck = MODELS.build(
        dict(type='CMTNeck',
             in_channels=(16, 32),
             reduced_channels=(10, 12, 14),
             embed_dim=8,
             cmt_channels=((6, ), (), (9, 7)),
             extra_stage=dict(out_channels=24)))
    feats = (torch.randn(2, 8, 28,
                         28), torch.randn(2, 16, 28,
                                          28), torch.randn(2, 32, 14, 14))
    outs = neck(feats)
    assert _shapes(outs) == [((2, 10, 28, 28), (2, 8, 28, 28)),
                             ((2, 12, 14, 14), (2, 8, 14, 14)),
                             ((2, 14, 7, 7), (2, 8, 7, 7))]
    assert neck.extra_stage.out_channels == 24
    assert neck.extra_stage.stride == 2


def test_paper_shapes_resnet101_448():
    """C4 28x28x1024, C5 14x14x2048, extra 7x7 from a 512-channel block."""
    neck = CMTNeck(in_channels=(1024, 2048),
                   extra_stage=dict(out_channels=512)).eval()
    with torch.no_grad():
        outs = neck((torch.randn(1, 1024, 28,
                                 28), torch.randn(1, 2048, 14, 14)))
    assert [o[0].shape[-1] for o in outs] == [28, 14, 7]
    assert all(o[1].shape[1] == 256 for o in outs)
    assert neck.reductions[2].conv.in_channels == 512


def test_wrong_number_of_per_scale_settings():
    with pytest.raises(ValueError, match='one setting per scale'):
        CMTNeck(in_channels=(16, 32), reduced_channels=(8, 8, 8))


def test_sequences_match_maps():
    torch.manual_seed(0)
    neck = CMTNeck(in_channels=12,
                   reduced_channels=10,
                   embed_dim=6,
                   extra_stage=dict(out_channels=8)).eval()
    seq = torch.randn(3, 12, 9)
    outs = neck((seq, ))
    assert _shapes(outs) == [((3, 10, 9), (3, 6, 9)), ((3, 10, 5), (3, 6, 5))]
    as_map = neck((seq.unsqueeze(-1), ))
    for got, ref in zip(outs, as_map):
        assert got.mask is None and ref.mask is None
        for g, r in zip(got[:2], ref[:2]):
            torch.testing.assert_close(g, r.squeeze(-1))


def test_mask_is_carried_and_padding_has_no_effect():
    torch.manual_seed(0)
    neck = CMTNeck(in_channels=12,
                   reduced_channels=10,
                   embed_dim=6,
                   extra_stage=dict(out_channels=8)).eval()
    real = torch.randn(2, 12, 7)
    padded = torch.cat([real, torch.randn(2, 12, 4) * 10], dim=2)
    mask = torch.zeros(2, 11, dtype=torch.bool)
    mask[:, :7] = True
    ref = neck((real, ))
    outs = neck((MaskedFeature(padded, mask), ))
    torch.testing.assert_close(outs[0].mask, mask)
    # Extra stage: stride 2 keeps the centre taps 0, 2, 4, ...
    torch.testing.assert_close(outs[1].mask, mask[:, ::2])
    for (visual, projected, m), (rv, rp, _) in zip(outs, ref):
        valid = rv.shape[-1]
        assert m[:, :valid].all() and not m[:, valid:].any()
        torch.testing.assert_close(visual[..., :valid], rv)
        torch.testing.assert_close(projected[..., :valid], rp)


def _padded_batch(x, extents, size, seed):
    """Put ``x`` (B, C, *S) into noise of spatial ``size`` (>= S).

    Sample ``i`` is valid within ``extents[i]`` (a leading corner of S);
    every other position holds noise that depends on ``seed``.
    """
    mask = torch.zeros(x.shape[0], *size, dtype=torch.bool)
    for i, extent in enumerate(extents):
        mask[(i, *map(slice, extent))] = True
    gen = torch.Generator().manual_seed(seed)
    padded = torch.randn(*x.shape[:2], *size, generator=gen) * 10
    region = (..., *map(slice, x.shape[2:]))
    padded[region] = torch.where(mask[region].unsqueeze(1), x, padded[region])
    return MaskedFeature(padded, mask)


def _valid(outs):
    """Per scale, ``visual`` and ``projected`` at valid positions, (N, C)."""
    return [[t.movedim(1, -1)[mask] for t in (visual, projected)]
            for visual, projected, mask in outs]


def test_masked_batchnorm2d_uses_valid_positions_only():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, 5)
    mask = torch.zeros(2, 4, 5, dtype=torch.bool)
    mask[0, :2, :3], mask[1, :, :1] = True, True
    bn, ref = MaskedBatchNorm2d(3), nn.BatchNorm2d(3)
    valid = x.movedim(1, -1)[mask]  # (N, C)
    expected = ref(valid.T[None, :, :, None])[0, :, :, 0].T
    torch.testing.assert_close(bn(x, mask).movedim(1, -1)[mask], expected)
    for name, buf in ref.named_buffers():
        torch.testing.assert_close(getattr(bn, name), buf)


@pytest.mark.parametrize('extents,small,large', [
    ([(5, ), (7, )], (7, ), (12, )),
    ([(3, 4), (5, 6)], (5, 6), (7, 9)),
])
def test_padding_invariance(extents, small, large):
    """Extra padding changes no valid output, gradient or running stat.

    Sequences (B, C, T) and maps (B, C, H, W), in training mode and then, with
    the running statistics of that step, in eval mode.
    """
    torch.manual_seed(0)
    neck = CMTNeck(in_channels=12,
                   reduced_channels=10,
                   embed_dim=6,
                   extra_stage=dict(out_channels=8)).train()
    x = torch.randn(2, 12, *small)
    necks, valid = [], []
    for seed, size in enumerate((small, large)):
        model = copy.deepcopy(neck)
        batch = _padded_batch(x, extents, size, seed)
        outs = _valid(model((batch, )))
        sum(v.square().sum() + p.sum() for v, p in outs).backward()
        model.eval()
        with torch.no_grad():
            outs += _valid(model((batch, )))
        necks.append(model)
        valid.append(outs)
    for got, ref in zip(*valid):
        torch.testing.assert_close(got, ref)
    padded, unpadded = necks
    for (name, got), ref in zip(padded.state_dict().items(),
                                unpadded.state_dict().values()):
        torch.testing.assert_close(got, ref, msg=name)
    for (name, got), ref in zip(padded.named_parameters(),
                                unpadded.parameters()):
        # Sums over more positions differ in rounding only.
        torch.testing.assert_close(got.grad,
                                   ref.grad,
                                   rtol=1e-4,
                                   atol=1e-4,
                                   msg=name)


def _with_plain_bn(model):
    """A copy of ``model`` with ``nn.BatchNorm2d`` for MaskedBatchNorm2d."""
    model = copy.deepcopy(model)
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, MaskedBatchNorm2d):
                plain = nn.BatchNorm2d(child.num_features)
                plain.load_state_dict(child.state_dict())
                setattr(module, name, plain)
    return model


def _upstream_forward(neck, feats):
    """The neck on maps, with mmcv / mmpretrain's own module forwards."""
    maps = list(feats[-neck.num_inputs:])
    maps.append(Bottleneck.forward(neck.extra_stage, maps[-1]))
    outs = []
    for x, reduce, transform in zip(maps, neck.reductions, neck.transformers):
        visual = reduce(x)
        outs.append(CMTFeature(visual, transform(visual)))
    return outs


def test_maps_without_mask_match_plain_batchnorm():
    torch.manual_seed(0)
    neck = CMTNeck(in_channels=(8, 12),
                   reduced_channels=10,
                   embed_dim=6,
                   extra_stage=dict(out_channels=8))
    ref = _with_plain_bn(neck)
    assert {
        'reductions.0.bn.running_mean', 'transformers.2.1.bn.weight',
        'extra_stage.bn3.num_batches_tracked',
        'extra_stage.downsample.1.running_var'
    } <= set(neck.state_dict())
    for mode in (True, True, False):
        feats = (torch.randn(2, 8, 6, 6), torch.randn(2, 12, 5, 5))
        outs = neck.train(mode)(feats)
        expected = _upstream_forward(ref.train(mode), feats)
        torch.testing.assert_close(outs, tuple(expected))
    for (name, got), want in zip(neck.state_dict().items(),
                                 ref.state_dict().values()):
        torch.testing.assert_close(got, want, msg=name)


def test_mask_needs_batchnorm():
    neck = CMTNeck(in_channels=12,
                   reduced_channels=8,
                   embed_dim=4,
                   norm_cfg=dict(type='GN', num_groups=2))
    x, mask = torch.randn(2, 12, 5), torch.ones(2, 5, dtype=torch.bool)
    assert neck((x, ))[0][0].shape == (2, 8, 5)
    with pytest.raises(TypeError, match='Masked inputs need BatchNorm'):
        neck((MaskedFeature(x, mask), ))


def test_wrong_inputs_say_what_is_expected():
    neck = CMTNeck(in_channels=12, reduced_channels=8, embed_dim=4)
    x, mask = torch.randn(2, 12, 5), torch.ones(2, 5, dtype=torch.bool)
    with pytest.raises(TypeError, match='tuple of backbone outputs'):
        neck(x)  # a bare tensor, not the backbone's tuple
    with pytest.raises(TypeError, match='MaskedFeature'):
        neck(((x, mask), ))  # an untyped (features, mask) pair


def test_no_projection_without_embed_dim():
    neck = CMTNeck(in_channels=12, reduced_channels=8, embed_dim=None)
    assert len(neck.transformers) == 0
    assert not any('transformers' in k for k in neck.state_dict())
    out, = neck((torch.randn(2, 12, 5, 5), ))
    assert out.visual.shape == (2, 8, 5, 5) and out.projected is None
