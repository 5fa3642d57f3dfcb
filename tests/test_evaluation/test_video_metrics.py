"""Video metrics against hand-worked cases and loop-based references."""
import numpy as np
import pytest
import torch
from mmpretrain.evaluation import AveragePrecision
from mmpretrain.structures import DataSample

from mmcma.evaluation.video_metrics import (VideoMultiLabelMetric,
                                            average_precision_per_class,
                                            global_average_precision,
                                            hit_at_one,
                                            mean_average_precision,
                                            precision_at_equal_recall_rate)

PRED = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.3]])
TARGET = np.array([[1, 0, 0], [0, 0, 1]])


# --------------------------------------------------------------------------
# Loop references (a different algorithm: explicit ranking by sorting lists)
# --------------------------------------------------------------------------
def ref_hit_at_one(pred, target):
    hits = [target[v][max(range(len(p)), key=lambda c: p[c])]
            for v, p in enumerate(pred) if sum(target[v]) > 0]
    return sum(hits) / len(hits)


def ref_perr(pred, target):
    values = []
    for p, t in zip(pred, target):
        n = int(sum(t))
        if n == 0:
            continue
        top = sorted(range(len(p)), key=lambda c: -p[c])[:n]
        values.append(sum(t[c] for c in top) / n)
    return sum(values) / len(values)


def ref_gap(pred, target, k):
    pairs = []
    for p, t in zip(pred, target):
        top = sorted(range(len(p)), key=lambda c: -p[c])[:k]
        pairs += [(p[c], t[c]) for c in top]
    pairs.sort(key=lambda x: -x[0])
    hits, total = 0, 0.0
    for i, (_, rel) in enumerate(pairs, start=1):
        if rel:
            hits += 1
            total += hits / i
    return total / target.sum()


def ref_map(pred, target, k=None):
    aps = []
    for c in range(pred.shape[1]):
        if target[:, c].sum() == 0:
            continue
        entries = []
        for v, p in enumerate(pred):
            top = sorted(range(len(p)), key=lambda j: -p[j])
            if k is None or c in top[:k]:
                entries.append((p[c], target[v, c]))
        entries.sort(key=lambda x: -x[0])
        hits, total = 0, 0.0
        for i, (_, rel) in enumerate(entries, start=1):
            if rel:
                hits += 1
                total += hits / i
        aps.append(total / target[:, c].sum())
    return sum(aps) / len(aps)


def _random_case(seed, videos=40, classes=9):
    rng = np.random.default_rng(seed)
    target = (rng.random((videos, classes)) < 0.25).astype(np.uint8)
    target[rng.integers(videos), :] = 0  # a video without labels
    pred = rng.random((videos, classes)) + 0.3 * target  # no ties
    return pred, target


# --------------------------------------------------------------------------
# Hand-worked
# --------------------------------------------------------------------------
def test_hand_worked_case():
    # Video 0 ranks its positive first; video 1 ranks its positive last.
    assert hit_at_one(PRED, TARGET) == 0.5
    assert precision_at_equal_recall_rate(PRED, TARGET) == 0.5
    # Top-2 pool: 0.9(+) 0.8(-) 0.5(-) 0.3(+): (1/1 + 2/4) / 2 positives.
    assert global_average_precision(PRED, TARGET, top_k=2) == 0.75
    # Top-1 pool: 0.9(+) 0.8(-): the missed positive still counts: 1 / 2.
    assert global_average_precision(PRED, TARGET, top_k=1) == 0.5
    # Class 0: AP 1; class 1: no positive (left out); class 2: 1/2.
    ap = average_precision_per_class(PRED, TARGET)
    assert ap[0] == 1.0 and np.isnan(ap[1]) and ap[2] == 0.5
    assert mean_average_precision(PRED, TARGET) == 0.75
    # Top-1 per video: video 1's class-2 score is not retrieved: AP 0.
    assert mean_average_precision(PRED, TARGET, top_k=1) == 0.5


def test_perr_with_several_positives():
    pred = np.array([[0.4, 0.3, 0.2, 0.1]])
    target = np.array([[1, 0, 1, 1]])
    # Top-3 = classes 0, 1, 2: two of three are positive.
    assert precision_at_equal_recall_rate(pred, target) == pytest.approx(2 /
                                                                         3)


def test_perfect_ranking_gives_one():
    rng = np.random.default_rng(0)
    target = (rng.random((30, 8)) < 0.3).astype(int)
    target[:, 0] |= target.sum(1) == 0  # every video has a label
    pred = target + 0.5 * rng.random(target.shape)  # positives > negatives
    assert hit_at_one(pred, target) == 1.0
    assert precision_at_equal_recall_rate(pred, target) == 1.0
    assert global_average_precision(pred, target) == pytest.approx(1.0)
    assert mean_average_precision(pred, target) == pytest.approx(1.0)
    assert mean_average_precision(pred, target, 20) == pytest.approx(1.0)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_against_loop_references(seed):
    pred, target = _random_case(seed)
    assert hit_at_one(pred, target) == pytest.approx(
        ref_hit_at_one(pred, target))
    assert precision_at_equal_recall_rate(pred, target) == pytest.approx(
        ref_perr(pred, target))
    for k in (1, 3, 20):
        assert global_average_precision(pred, target, k) == pytest.approx(
            ref_gap(pred, target, k))
    for k in (None, 2, 5):
        assert mean_average_precision(pred, target, k) == pytest.approx(
            ref_map(pred, target, k))


def test_full_map_matches_mmpretrain_when_every_class_has_positives():
    pred, target = _random_case(3)
    target[0] = 1
    expected = AveragePrecision.calculate(pred, target.astype(np.int64))
    expected = expected.item() / 100
    assert mean_average_precision(pred, target) == pytest.approx(
        expected, abs=1e-6)


def test_errors():
    with pytest.raises(ValueError, match='num_videos'):
        hit_at_one(PRED, TARGET[:1])
    with pytest.raises(ValueError, match='only 0 and 1'):
        mean_average_precision(PRED, TARGET * 2)
    with pytest.raises(ValueError, match='NaN'):
        global_average_precision(PRED * np.nan, TARGET)
    with pytest.raises(ValueError, match='No video'):
        precision_at_equal_recall_rate(PRED, 0 * TARGET)
    with pytest.raises(ValueError, match='No class'):
        mean_average_precision(PRED, 0 * TARGET)
    with pytest.raises(ValueError, match='top_k'):
        global_average_precision(PRED, TARGET, top_k=0)
    with pytest.raises(ValueError, match='items'):
        VideoMultiLabelMetric(items=('GAP', 'F1'))


def test_metric_class_reports_percent():
    samples = []
    for p, t in zip(PRED, TARGET):
        s = DataSample().set_pred_score(torch.tensor(p, dtype=torch.float32))
        s.set_gt_label(np.flatnonzero(t).tolist())
        samples.append(s.to_dict())
    metric = VideoMultiLabelMetric(top_k=2)
    metric.process(None, samples[:1])
    metric.process(None, samples[1:])
    results = metric.evaluate(len(samples))
    assert results == pytest.approx({
        'video/GAP': 75.0,
        'video/Hit@1': 50.0,
        'video/PERR': 50.0,
        'video/mAP': 75.0
    })
    metric = VideoMultiLabelMetric(map_top_k=1, items=('mAP', ))
    metric.process(None, [
        DataSample().set_pred_score(torch.tensor(p)).set_gt_score(
            torch.tensor(t)).to_dict() for p, t in zip(PRED, TARGET)
    ])
    assert metric.evaluate(2) == pytest.approx({'video/mAP': 50.0})
