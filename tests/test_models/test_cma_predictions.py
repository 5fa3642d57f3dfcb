"""CMAHead / MSCMAHead predictions reuse mmpretrain's MultiLabelClsHead."""
import pytest
import torch
from mmpretrain.models.heads import MultiLabelClsHead
from mmpretrain.structures import DataSample

from mmcma.models.heads.cma_head import CMAHead
from mmcma.models.heads.ms_cma_head import MSCMAHead


def _probabilities():
    """Float32 probabilities including 0, 1, subnormal and tiny values."""
    torch.manual_seed(0)
    special = torch.tensor([[0.0, 1.0, 1e-45, 3e-39, 1e-30, 0.5],
                            [0.7, 1 - 2**-24, 2**-24, 1e-8, 0.25, 0.0]])
    return torch.cat([special, torch.rand(6, 6)**8])


@pytest.mark.parametrize('kwargs', [dict(thr=0.5), dict(topk=2)])
def test_cma_predictions_are_mmpretrains(kwargs):
    head = CMAHead(num_classes=6, in_channels=3, embed_dim=2, **kwargs)
    reference = MultiLabelClsHead(**kwargs)
    logits = torch.randn(4, 6) * 3
    mine = head._get_predictions(logits, None)
    theirs = reference._get_predictions(logits, None)
    for a, b in zip(mine, theirs):
        torch.testing.assert_close(a.pred_score, b.pred_score, rtol=0, atol=0)
        assert a.pred_label.tolist() == b.pred_label.tolist()


def test_fused_probabilities_come_back_exactly():
    head = MSCMAHead(num_classes=6, in_channels=(3, 4), embed_dim=2, thr=0.25)
    probs = _probabilities()
    samples = [DataSample() for _ in range(len(probs))]
    out = head._get_predictions(probs, samples)
    assert out is samples
    for sample, p in zip(out, probs):
        assert sample.pred_score.dtype == torch.float32
        assert torch.equal(sample.pred_score, p)  # bitwise
        assert sample.pred_label.tolist() == torch.where(
            p >= 0.25)[0].tolist()
    # Hand-checked rows: [0, 1, 1e-45, 3e-39, 1e-30, 0.5], [0.7, ~1, ...].
    assert out[0].pred_label.tolist() == [1, 5]
    assert out[1].pred_label.tolist() == [0, 1, 4]


def test_fused_topk():
    head = MSCMAHead(num_classes=6, in_channels=(3, 4), embed_dim=2, topk=2)
    out = head._get_predictions(_probabilities()[:2], None)
    assert sorted(out[0].pred_label.tolist()) == [1, 5]
    assert sorted(out[1].pred_label.tolist()) == [0, 1]
