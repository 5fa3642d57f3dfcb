"""CMAHead / MSCMAHead predictions reuse mmpretrain's MultiLabelClsHead."""
import pytest
import torch
from mmpretrain.models.heads import MultiLabelClsHead

from mmcma.models.heads.cma_head import CMAHead
from mmcma.models.heads.ms_cma_head import MSCMAHead
from mmcma.models.utils import CMTFeature


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


@pytest.mark.parametrize('kwargs', [dict(thr=0.25), dict(topk=2)])
def test_ms_cma_predictions_are_mmpretrains_on_fused_logits(kwargs):
    """MS-CMA's forward gives logits as every head: its scores and labels
    are mmpretrain's, the sigmoid of the fused logit."""
    torch.manual_seed(0)
    head = MSCMAHead(num_classes=6, in_channels=(3, 4), embed_dim=2,
                     **kwargs)
    head.set_label_state('embedding', torch.randn(6, 2))
    feats = (CMTFeature(torch.randn(4, 3, 2, 2), torch.randn(4, 2, 2, 2)),
             CMTFeature(torch.randn(4, 4, 2, 2), torch.randn(4, 2, 2, 2)))
    logits = head(feats)
    reference = MultiLabelClsHead(**kwargs)
    for a, b in zip(head.predict(feats),
                    reference._get_predictions(logits, None)):
        assert torch.equal(a.pred_score, b.pred_score)
        assert a.pred_label.tolist() == b.pred_label.tolist()
        assert a.pred_score.dtype == torch.float32
