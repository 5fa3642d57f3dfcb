"""The one threshold / top-k rule: mmpretrain's heads, an independent
computation, and the checks of user-given rules."""
import numpy as np
import pytest
import torch
from mmpretrain.models.heads import MultiLabelClsHead
from mmpretrain.structures import DataSample

from mmcma.models import MultiLabelScoreTTA
from mmcma.models.utils import (LabelRuleError, check_label_rule,
                                head_label_rule, select_labels)


def by_hand(scores: np.ndarray, thr=None, topk=None) -> list:
    """The rule written out: indices at or above thr in index order, else
    the k best by decreasing score, ties to the lower index."""
    if thr is not None:
        return [k for k in range(len(scores)) if scores[k] >= thr]
    ranked = sorted(range(len(scores)), key=lambda k: (-scores[k], k))
    return ranked[:topk]


@pytest.mark.parametrize('rule', [dict(thr=0.5), dict(thr=0.1),
                                  dict(topk=1), dict(topk=3)])
def test_select_labels_is_mmpretrains_rule(rule):
    head = MultiLabelClsHead(**rule)
    logits = torch.randn(64, 10, generator=torch.Generator().manual_seed(0))
    theirs = head._get_predictions(logits, None)
    for row, sample in zip(logits, theirs):
        scores = torch.sigmoid(row)
        mine = select_labels(scores, **rule)
        assert mine.dtype == torch.int64
        # Same labels in the same order as mmpretrain's head gives them.
        assert mine.tolist() == sample.pred_label.tolist()
        assert mine.tolist() == by_hand(scores.numpy(), **rule)


def test_select_labels_order_ties_and_bounds():
    scores = np.array([0.2, 0.9, 0.5, 0.9, 0.1], np.float32)
    assert select_labels(scores, thr=0.5).tolist() == [1, 2, 3]  # index order
    assert select_labels(scores, thr=0.95).tolist() == []
    assert select_labels(scores, thr=0.0).tolist() == [0, 1, 2, 3, 4]
    assert select_labels(scores, topk=2).tolist() == [1, 3]  # tie: lower first
    assert select_labels(scores, topk=5).tolist() == [1, 3, 2, 0, 4]
    assert select_labels(scores, topk=5).tolist() == by_hand(scores, topk=5)
    with pytest.raises(LabelRuleError, match=r'topk must be a whole number '
                       r'in \[1, 5\].*got 6'):
        select_labels(scores, topk=6)
    with pytest.raises(LabelRuleError, match='one sample'):
        select_labels(np.zeros((2, 5)), thr=0.5)


@pytest.mark.parametrize('rule, message', [
    (dict(thr=1.5), r'thr must be a number in \[0, 1\], got 1.5'),
    (dict(thr=-0.1), r'thr must be a number in \[0, 1\], got -0.1'),
    (dict(thr=float('nan')), r'thr must be .* got nan'),
    (dict(thr=True), r'thr must be .* got True'),
    (dict(thr='0.5'), r"thr must be .* got '0.5'"),
    (dict(topk=0), r'topk must be a whole number in \[1, 12\].* got 0'),
    (dict(topk=-2), r'topk must be .* got -2'),
    (dict(topk=2.5), r'topk must be .* got 2.5'),
    (dict(topk=13), r'topk must be .* got 13'),
    (dict(thr=0.5, topk=3), 'give thr or topk, not both'),
    (dict(), 'give thr or topk, got neither'),
])
def test_check_label_rule_refuses(rule, message):
    with pytest.raises(LabelRuleError, match=message) as error:
        check_label_rule(num_classes=12, **rule)
    assert isinstance(error.value, ValueError)
    assert '\n' not in str(error.value)


def test_check_label_rule_and_head_rule():
    assert check_label_rule(thr=np.float32(0.25)) == {'thr': 0.25}
    assert check_label_rule(topk=np.int64(3), num_classes=3) == {'topk': 3}
    assert check_label_rule(topk=100) == {'topk': 100}  # N unknown
    # mmpretrain's heads: thr wins when both are set.
    assert head_label_rule(MultiLabelClsHead(thr=0.3, topk=2)) == {'thr': 0.3}
    assert head_label_rule(MultiLabelClsHead(thr=None, topk=2)) == {'topk': 2}


class _Model(torch.nn.Module):
    """What MultiLabelScoreTTA reads of a model: ``head`` and
    ``test_step``."""

    def __init__(self, **rule):
        super().__init__()
        self.head = MultiLabelClsHead(**rule)

    def test_step(self, data):
        raise NotImplementedError


@pytest.mark.parametrize('rule', [dict(thr=0.4), dict(topk=2)])
def test_tta_selects_with_the_rule(rule):
    tta = MultiLabelScoreTTA(module=_Model(**rule))
    views = torch.rand(2, 3, 6, generator=torch.Generator().manual_seed(1))
    # Per sample, its views' predictions (labels as the first view left).
    samples = [[DataSample().set_pred_score(v[i]).set_pred_label(
        torch.tensor([0])) for v in views] for i in range(3)]
    merged = tta.merge_preds(samples)
    for i, sample in enumerate(merged):
        mean = views[:, i].mean(0)
        torch.testing.assert_close(sample.pred_score, mean)
        assert sample.pred_label.tolist() == by_hand(mean.numpy(), **rule)
