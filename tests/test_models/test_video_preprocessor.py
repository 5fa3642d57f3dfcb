"""Padding of variable-length frame features (FrameFeaturePreprocessor)."""
import pytest
import torch

from mmcma.models.classifiers import FrameFeaturePreprocessor, pad_sequences


def test_pad_sequences_matches_a_loop():
    torch.manual_seed(0)
    lengths = [4, 1, 7, 3]
    seqs = [torch.randn(t, 5) for t in lengths]
    feats, mask = pad_sequences(seqs, pad_value=-3.0)
    assert feats.shape == (4, 5, 7) and feats.is_contiguous()
    for i, (s, t) in enumerate(zip(seqs, lengths)):
        torch.testing.assert_close(feats[i, :, :t], s.T)
        assert (feats[i, :, t:] == -3.0).all()
        assert mask[i].tolist() == [True] * t + [False] * (7 - t)
    assert mask.dtype == torch.bool


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match='empty batch'):
        pad_sequences([])
    with pytest.raises(ValueError, match=r'\(T, D\) frame features with one '
                       r'D, got shapes \[\(3,\)\]'):
        pad_sequences([torch.ones(3)])
    with pytest.raises(ValueError, match='one D'):
        pad_sequences([torch.ones(3, 2), torch.ones(3, 4)])
    with pytest.raises(ValueError, match='at least one frame'):
        pad_sequences([torch.ones(2, 2), torch.ones(0, 2)])


def test_preprocessor_pads_with_its_value():
    out = FrameFeaturePreprocessor(pad_value=1.5)(
        dict(inputs=[torch.zeros(2, 3, dtype=torch.float64),
                     torch.zeros(1, 3)]))
    assert out['inputs'].dtype == torch.float32
    assert out['inputs'][1, :, 1].tolist() == [1.5] * 3
    assert out['mask'].tolist() == [[True, True], [True, False]]
