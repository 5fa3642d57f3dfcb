"""SNet / SNetFC, masked BatchNorm, the video preprocessor and classifier."""
import math

import pytest
import torch
from mmengine.optim import OptimWrapper
from torch import nn

from mmcma.models.backbones.snet import (MaskedBatchNorm1d, SNet, SNetFC,
                                         masked_max_pool1d)
from mmcma.models.classifiers.video_classifier import (
    FrameFeaturePreprocessor, VideoClassifier, pad_sequences)

D = 12


def _batch(lengths, dim=D, extra_padding=0, seed=0):
    """Random sequences, padded with garbage (masked) to max + extra."""
    g = torch.Generator().manual_seed(seed)
    seqs = [torch.randn(n, dim, generator=g) for n in lengths]
    total = max(lengths) + extra_padding
    x = torch.randn(len(lengths), dim, total, generator=g) * 50
    mask = torch.zeros(len(lengths), total, dtype=torch.bool)
    for i, s in enumerate(seqs):
        x[i, :, :len(s)] = s.T
        mask[i, :len(s)] = True
    return seqs, x, mask


def _snet(**kwargs):
    torch.manual_seed(0)
    model = SNet(in_channels=D, channels=(8, 8, 8, 8), **kwargs)
    model.init_weights()
    return model


def test_masked_batchnorm_matches_batchnorm_without_padding():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 9)
    ref, bn = nn.BatchNorm1d(5), MaskedBatchNorm1d(5)
    full = torch.ones(3, 9, dtype=torch.bool)
    for _ in range(2):
        torch.testing.assert_close(bn(x, full), ref(x))
    torch.testing.assert_close(bn.running_mean, ref.running_mean)
    torch.testing.assert_close(bn.running_var, ref.running_var)
    bn.eval(), ref.eval()
    torch.testing.assert_close(bn(x, full), ref(x))


def test_masked_batchnorm_uses_valid_steps_only():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 6)
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]]).bool()
    bn = MaskedBatchNorm1d(4, affine=False)
    out = bn(x, mask)
    valid = torch.cat([x[0, :, :3], x[1, :, :5]], dim=1)  # (C, 8)
    mean, var = valid.mean(1), valid.var(1, unbiased=False)
    expected = (x - mean[None, :, None]) / torch.sqrt(var + bn.eps)[None, :,
                                                                      None]
    torch.testing.assert_close(out[mask.unsqueeze(1).expand_as(x)],
                               expected[mask.unsqueeze(1).expand_as(x)])
    torch.testing.assert_close(bn.running_var,
                               0.9 + 0.1 * valid.var(1, unbiased=True))


def test_masked_max_pool_ignores_padding():
    x = torch.tensor([[[1., 5., 2., 9., 7.]]])
    mask = torch.tensor([[True, True, True, False, False]])
    out, out_mask = masked_max_pool1d(x, mask)
    assert out.tolist() == [[[5., 2., 0.]]]
    assert out_mask.tolist() == [[True, True, False]]


@pytest.mark.parametrize('length', [1, 2, 15, 16, 17, 40])
def test_snet_output_length(length):
    model = _snet().eval()
    (feats, mask), = model(*_batch([length])[1:])
    assert feats.shape == (1, 8, math.ceil(length / 16))
    assert mask.all()


def test_snet_eval_padding_invariance():
    """Each sample's valid outputs equal the sample run alone, unpadded."""
    model = _snet().eval()
    lengths = [40, 23, 7, 1]
    seqs, x, mask = _batch(lengths, extra_padding=9)
    (feats, out_mask), = model(x, mask)
    for i, s in enumerate(seqs):
        (alone, no_mask), = model(s.T[None])
        assert no_mask is None
        n = alone.shape[2]
        assert out_mask[i].sum() == n
        torch.testing.assert_close(feats[i, :, :n], alone[0])
        assert (feats[i, :, n:] == 0).all()


def test_snet_training_padding_invariance():
    """Appending padded frames changes neither outputs nor running stats."""
    lengths = [33, 20, 9]
    _, x, mask = _batch(lengths)
    extra = 21
    x_pad = torch.cat([x, torch.randn(3, D, extra) * 100], dim=2)
    mask_pad = torch.cat([mask, torch.zeros(3, extra, dtype=torch.bool)], 1)
    a, b = _snet().train(), _snet().train()
    (fa, ma), = a(x, mask)
    (fb, mb), = b(x_pad, mask_pad)
    n = fa.shape[2]
    assert (mb[:, :n] == ma).all() and not mb[:, n:].any()
    torch.testing.assert_close(fb[:, :, :n], fa)
    for ba, bb in zip(a.buffers(), b.buffers()):
        torch.testing.assert_close(ba, bb)


def test_snet_fc_keeps_mask_and_is_padding_invariant():
    torch.manual_seed(0)
    model = SNetFC(in_channels=D, channels=(10, 6)).eval()
    seqs, x, mask = _batch([9, 4], extra_padding=3)
    (feats, out_mask), = model(x, mask)
    assert feats.shape == (2, 6, 12) and torch.equal(out_mask, mask)
    for i, s in enumerate(seqs):
        (alone, _), = model(s.T[None])
        torch.testing.assert_close(feats[i, :, :len(s)], alone[0])
    assert model.temporal_stride == 1


def test_snet_rejects_bad_input():
    model = _snet()
    x = torch.randn(2, D, 8)
    with pytest.raises(ValueError, match='bool mask'):
        model(x, torch.ones(2, 7, dtype=torch.bool))
    with pytest.raises(ValueError, match='at least one valid'):
        model(x, torch.tensor([[True] * 8, [False] * 8]))
    with pytest.raises(ValueError, match=r'\(B, C, T\)'):
        model(torch.randn(D, 8))
    with pytest.raises(ValueError, match='odd'):
        SNet(in_channels=D, kernel_size=2)
    with pytest.raises(ValueError, match='two layers'):
        SNetFC(in_channels=D, channels=(4, ))


def test_pad_sequences_and_preprocessor():
    seqs = [torch.ones(3, 2), 2 * torch.ones(1, 2)]
    feats, mask = pad_sequences(seqs)
    assert feats.shape == (2, 2, 3)
    assert mask.tolist() == [[True, True, True], [True, False, False]]
    assert feats[1].tolist() == [[2, 0, 0], [2, 0, 0]]
    out = FrameFeaturePreprocessor()(dict(inputs=seqs, data_samples=None))
    torch.testing.assert_close(out['inputs'], feats)
    stacked = FrameFeaturePreprocessor()(dict(inputs=torch.ones(2, 3, 2)))
    assert stacked['inputs'].shape == (2, 2, 3) and stacked['mask'].all()
    with pytest.raises(ValueError, match='one D'):
        pad_sequences([torch.ones(3, 2), torch.ones(3, 4)])
    with pytest.raises(ValueError, match='at least one frame'):
        pad_sequences([torch.ones(0, 2)])


# ---------------------------------------------------------------------------
# End to end: VideoClassifier(SNet -> CMTNeck -> CMAHead)
# ---------------------------------------------------------------------------
NUM_CLASSES, EMBED = 5, 6


def _classifier(backbone):
    # Registers the neck, head and loss.
    import mmcma.models.heads.cma_head  # noqa: F401
    import mmcma.models.losses.weighted_bce  # noqa: F401
    import mmcma.models.necks.cmt  # noqa: F401
    torch.manual_seed(0)
    model = VideoClassifier(
        backbone=backbone,
        neck=dict(
            type='CMTNeck',
            in_channels=8,
            reduced_channels=8,
            embed_dim=EMBED,
            cmt_channels=(8, )),
        head=dict(
            type='CMAHead',
            num_classes=NUM_CLASSES,
            in_channels=8,
            embed_dim=EMBED,
            thr=0.5))
    model.init_weights()
    model.head.set_label_state('embedding', torch.randn(NUM_CLASSES, EMBED))
    return model


@pytest.mark.parametrize('backbone', [
    dict(type='SNet', in_channels=D, channels=(8, 8, 8, 8)),
    dict(type='SNetFC', in_channels=D, channels=(8, 8)),
])
def test_classifier_padding_invariance_end_to_end(backbone):
    from mmpretrain.structures import DataSample
    model = _classifier(backbone)
    seqs = [torch.randn(n, D) for n in (35, 12, 3)]
    samples = [
        DataSample(metainfo=dict(num_classes=NUM_CLASSES)).set_gt_label(
            [i % NUM_CLASSES]) for i in range(3)
    ]
    data = dict(inputs=seqs, data_samples=samples)

    model.train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log_vars = model.train_step(data, optim)
    assert math.isfinite(log_vars['loss'].item())

    model.eval()
    with torch.no_grad():
        batch = model.data_preprocessor(data)
        logits = model(**batch, mode='tensor')
        # Same batch with 17 more padded frames full of garbage.
        x = torch.cat([batch['inputs'], torch.randn(3, D, 17) * 100], 2)
        mask = torch.cat([batch['mask'], torch.zeros(3, 17, dtype=bool)], 1)
        torch.testing.assert_close(
            model(x, mode='tensor', mask=mask), logits)
        for i, s in enumerate(seqs):
            alone = model(**model.data_preprocessor(dict(inputs=[s])),
                          mode='tensor')
            torch.testing.assert_close(alone[0], logits[i])
        preds = model.val_step(data)
    assert preds[0].pred_score.shape == (NUM_CLASSES, )
    attention, = model.head.get_attention(
        model.extract_feat(batch['inputs'], mask=batch['mask']))
    valid = model.extract_feat(
        batch['inputs'], stage='backbone', mask=batch['mask'])[0].mask
    assert (attention.masked_select(~valid[:, None, :]) == 0).all()
