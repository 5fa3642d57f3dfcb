import pytest
import torch
from mmpretrain.registry import MODELS

from mmcma.models.necks.cmt import CMTNeck


def _shapes(outs):
    return [tuple(tuple(t.shape) for t in item) for item in outs]


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
        for g, r in zip(got, ref):
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
    outs = neck(((padded, mask), ))
    assert len(outs[0]) == 3 and len(outs[1]) == 3
    torch.testing.assert_close(outs[0][2], mask)
    # Extra stage: stride 2 keeps the centre taps 0, 2, 4, ...
    torch.testing.assert_close(outs[1][2], mask[:, ::2])
    for (visual, projected, m), (rv, rp) in zip(outs, ref):
        valid = rv.shape[-1]
        assert m[:, :valid].all() and not m[:, valid:].any()
        torch.testing.assert_close(visual[..., :valid], rv)
        torch.testing.assert_close(projected[..., :valid], rp)
