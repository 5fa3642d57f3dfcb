"""The papers' CP/CR/CF1/OP/OR/OF1 and mAP: hand-worked cases, a loop
reference in plain Python and mmpretrain's metrics where they agree."""
import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmpretrain.evaluation import AveragePrecision, MultiLabelMetric
from mmpretrain.structures import DataSample

from mmcma.evaluation import PaperMultiLabelMetric, paper_metrics

# Four images, three labels (worked by hand below).
SCORES = np.array([[0.9, 0.6, 0.2],
                   [0.8, 0.7, 0.4],
                   [0.3, 0.55, 0.7],
                   [0.4, 0.1, 0.45]])
TARGETS = np.array([[1, 0, 0],
                    [1, 1, 0],
                    [0, 1, 1],
                    [0, 0, 1]])


# --------------------------------------------------------------------------
# Loop reference: ML-GCN's definitions written out label by label.
# --------------------------------------------------------------------------
def ref_decisions(scores, thr, k):
    decided = []
    for row in scores.tolist():
        labels = range(len(row))
        if k is not None:
            labels = sorted(labels, key=lambda j: (-row[j], j))[:k]
        decided.append({j for j in labels if row[j] >= thr})
    return decided


def ref_counts(scores, targets, thr, k):
    decided = ref_decisions(scores, thr, k)
    num_labels = len(targets[0])
    nc, np_, ng = [0] * num_labels, [0] * num_labels, [0] * num_labels
    for i, row in enumerate(targets.tolist()):
        for j in range(num_labels):
            positive = row[j] == 1  # difficult (-1) counts as negative
            ng[j] += positive
            np_[j] += j in decided[i]
            nc[j] += positive and j in decided[i]
    return nc, np_, ng


def ref_setting(scores, targets, thr, k):
    nc, np_, ng = ref_counts(scores, targets, thr, k)
    labels = [j for j in range(len(ng)) if ng[j] > 0]
    precision = [nc[j] / np_[j] if np_[j] else 0.0 for j in labels]
    recall = [nc[j] / ng[j] for j in labels]
    cp = sum(precision) / len(labels)
    cr = sum(recall) / len(labels)
    op = sum(nc) / sum(np_) if sum(np_) else 0.0
    orr = sum(nc) / sum(ng)
    f1 = [2 * p * r / (p + r) if p + r else 0.0
          for p, r in zip(precision, recall)]
    return {'CP': cp, 'CR': cr, 'CF1': 2 * cp * cr / (cp + cr),
            'OP': op, 'OR': orr, 'OF1': 2 * op * orr / (op + orr),
            'macro-F1': sum(f1) / len(f1)}


def ref_ap(scores, targets, label):
    entries = [(scores[i][label], i, targets[i][label])
               for i in range(len(scores)) if targets[i][label] != -1]
    entries.sort(key=lambda e: (-e[0], e[1]))
    hits, total = 0, 0.0
    for rank, (_, _, target) in enumerate(entries, start=1):
        if target == 1:
            hits += 1
            total += hits / rank
    return total / hits if hits else None


def ref_metrics(scores, targets, thr=0.5, k=3):
    result = ref_setting(scores, targets, thr, None)
    result.update({f'{key}_top{k}': value for key, value in
                   ref_setting(scores, targets, thr, k).items()})
    aps = [ref_ap(scores, targets, j) for j in range(scores.shape[1])]
    kept = [ap for ap in aps if ap is not None]
    result['mAP'] = sum(kept) / len(kept)
    result['labels_without_positives'] = len(aps) - len(kept)
    return result


def random_case(seed, samples=50, labels=7):
    rng = np.random.default_rng(seed)
    targets = (rng.random((samples, labels)) < 0.3).astype(int)
    targets[rng.random(targets.shape) < 0.05] = -1  # difficult
    targets[:, -1] = np.where(targets[:, -1] == 1, 0, targets[:, -1])
    scores = np.clip(rng.random(targets.shape) + 0.3 * (targets == 1), 0, 1)
    return scores, targets


# --------------------------------------------------------------------------
# Hand-worked
# --------------------------------------------------------------------------
def test_hand_worked_threshold_setting():
    # Predicted at 0.5: image 0 {0, 1}, 1 {0, 1}, 2 {1, 2}, 3 {}.
    # Label 0: Nc 2, Np 2, Ng 2; label 1: 2, 3, 2; label 2: 1, 1, 2.
    got = paper_metrics(SCORES, TARGETS, thr=0.5, topk=1)
    assert got['CP'] == pytest.approx((1 + 2 / 3 + 1) / 3)  # 8/9
    assert got['CR'] == pytest.approx((1 + 1 + 1 / 2) / 3)  # 5/6
    assert got['CF1'] == pytest.approx(80 / 93)  # 2 CP CR / (CP + CR)
    # The mean of per-label F1 (1, 4/5, 2/3) is another, smaller number.
    assert got['macro-F1'] == pytest.approx(37 / 45)
    assert got['OP'] == pytest.approx(5 / 6)  # 5 correct of 6 predicted
    assert got['OR'] == pytest.approx(5 / 6)  # 5 found of 6 positives
    assert got['OF1'] == pytest.approx(5 / 6)


def test_hand_worked_top_k_needs_the_threshold_too():
    # Top-1: image 0 -> 0, 1 -> 0, 2 -> 2; image 3's best label (2, 0.45)
    # is under 0.5 and is not predicted (ML-GCN's overall_topk).
    got = paper_metrics(SCORES, TARGETS, thr=0.5, topk=1)
    # Label 1 has no prediction: precision 0.
    assert got['CP_top1'] == pytest.approx((1 + 0 + 1) / 3)
    assert got['CR_top1'] == pytest.approx((1 + 0 + 1 / 2) / 3)
    assert got['CF1_top1'] == pytest.approx(4 / 7)
    assert got['OP_top1'] == pytest.approx(1.0)
    assert got['OR_top1'] == pytest.approx(3 / 6)
    assert got['OF1_top1'] == pytest.approx(2 / 3)
    assert got['macro-F1_top1'] == pytest.approx((1 + 0 + 2 / 3) / 3)


def test_hand_worked_average_precision_and_difficult_labels():
    # Label 1 ranks image 1 (+), 0 (-), 2 (+): AP (1/1 + 2/3) / 2.
    got = paper_metrics(SCORES, TARGETS)
    assert got['mAP'] == pytest.approx((1 + 5 / 6 + 1) / 3)
    # Image 0's label 1 difficult: skipped in the ranking (AP 1), but still
    # a wrong prediction in the counts.
    targets = TARGETS.copy()
    targets[0, 1] = -1
    difficult = paper_metrics(SCORES, targets)
    assert difficult['mAP'] == pytest.approx(1.0)
    for key in ('CP', 'CR', 'OP', 'OR', 'CP_top3', 'OP_top3'):
        assert difficult[key] == pytest.approx(got[key])


def test_label_without_positives_is_left_out_of_the_label_means():
    # A fourth label, never positive, predicted once (image 0).
    scores = np.hstack([SCORES, [[0.7], [0.1], [0.2], [0.3]]])
    targets = np.hstack([TARGETS, np.zeros((4, 1), int)])
    base, got = paper_metrics(SCORES, TARGETS), paper_metrics(scores, targets)
    for key in ('mAP', 'CP', 'CR', 'CF1', 'macro-F1'):
        assert got[key] == pytest.approx(base[key]), key
    assert got['OP'] == pytest.approx(5 / 7)  # its false positive counts
    assert got['labels_without_positives'] == 1
    assert base['labels_without_positives'] == 0
    with pytest.raises(ValueError, match='No label has a positive'):
        paper_metrics(SCORES, 0 * TARGETS)


# --------------------------------------------------------------------------
# Against the loop reference and mmpretrain
# --------------------------------------------------------------------------
@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('thr,k', [(0.5, 3), (0.3, 2), (0.7, 1)])
def test_against_loop_reference(seed, thr, k):
    scores, targets = random_case(seed)
    got = paper_metrics(scores, targets, thr, k)
    expected = ref_metrics(scores, targets, thr, k)
    assert expected['labels_without_positives'] == 1  # the last label
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


@pytest.mark.parametrize('seed', [3, 4])
def test_cf1_is_at_least_the_mean_of_label_f1(seed):
    # The harmonic mean is concave: F1 of the means >= mean of the F1s.
    scores, targets = random_case(seed, samples=30, labels=12)
    got = paper_metrics(scores, targets)
    assert got['CF1'] >= got['macro-F1'] - 1e-12
    assert got['CF1_top3'] >= got['macro-F1_top3'] - 1e-12


def test_threshold_setting_matches_mmpretrain_where_they_agree():
    # Every label with a positive, nothing difficult: mmpretrain's macro
    # precision / recall are CP / CR, its macro f1-score is macro-F1 (not
    # CF1), its micro values are OP / OR / OF1, AveragePrecision is mAP.
    scores, targets = random_case(5)
    targets = np.maximum(targets, 0)
    targets[0] = 1
    got = paper_metrics(scores, targets)
    pred, gt = torch.from_numpy(scores), torch.from_numpy(targets)
    macro = [float(v) / 100 for v in MultiLabelMetric.calculate(
        pred, gt, thr=0.5, average='macro')[:3]]
    micro = [float(v) / 100 for v in MultiLabelMetric.calculate(
        pred, gt, thr=0.5, average='micro')[:3]]
    assert [got['CP'], got['CR'], got['macro-F1']] == pytest.approx(macro)
    assert [got['OP'], got['OR'], got['OF1']] == pytest.approx(micro)
    assert got['CF1'] > got['macro-F1']
    assert got['mAP'] == pytest.approx(
        float(AveragePrecision.calculate(pred, gt)) / 100)


def test_input_errors():
    with pytest.raises(ValueError, match='num_samples'):
        paper_metrics(SCORES, TARGETS[:2])
    with pytest.raises(ValueError, match=r'1 \(positive\), 0'):
        paper_metrics(SCORES, TARGETS * 2)
    with pytest.raises(ValueError, match='NaN'):
        paper_metrics(SCORES * np.nan, TARGETS)
    with pytest.raises(ValueError, match='topk'):
        PaperMultiLabelMetric(topk=0)


# --------------------------------------------------------------------------
# The registered metric
# --------------------------------------------------------------------------
def _samples(scores, targets, difficult=None):
    samples = []
    for i, (score, target) in enumerate(zip(scores, targets)):
        sample = DataSample().set_pred_score(torch.tensor(score))
        sample.set_gt_label(np.flatnonzero(target == 1).tolist())
        if difficult is not None:
            sample.set_metainfo(dict(gt_label_difficult=difficult[i]))
        samples.append(sample.to_dict())
    return samples


def test_metric_reports_percent_with_keys_per_setting():
    metric = PaperMultiLabelMetric(thr=0.5, topk=1, per_class=True)
    samples = _samples(SCORES, TARGETS)
    metric.process(None, samples[:3])
    metric.process(None, samples[3:])
    got = metric.evaluate(4)
    expected = paper_metrics(SCORES, TARGETS, 0.5, 1)
    expected.pop('labels_without_positives')
    for key, value in expected.items():
        assert got[f'multi-label/{key}'] == pytest.approx(100 * value), key
    assert got['multi-label/AP_per_class'] == pytest.approx(
        [100.0, 100 * 5 / 6, 100.0])
    assert 'multi-label/labels_without_positives' not in got


def test_metric_reads_voc_difficult_labels_and_names_empty_labels(
        capsys):
    # Image 0's label 1 is difficult (VOC's gt_label_difficult), label 3
    # has no positive: left out, counted, named in the log.
    scores = np.hstack([SCORES, np.full((4, 1), 0.2)])
    targets = np.hstack([TARGETS, np.zeros((4, 1), int)])
    metric = PaperMultiLabelMetric(per_class=True)
    metric.process(None, _samples(scores, targets,
                                  difficult=[[1], [], [2], []]))
    MMLogger.get_instance('paper_metric_test')
    got = metric.evaluate(4)
    expected_targets = targets.copy()
    expected_targets[0, 1] = -1  # image 2's label 2 is also positive
    expected = paper_metrics(scores, expected_targets)
    assert got['multi-label/mAP'] == pytest.approx(100 * expected['mAP'])
    assert got['multi-label/labels_without_positives'] == 1
    assert got['multi-label/AP_per_class'][3] is None
    assert 'left out of mAP, CP, CR, CF1 (indices [3])' in \
        capsys.readouterr().out


def test_metric_takes_gt_score_and_refuses_soft_labels():
    metric = PaperMultiLabelMetric()
    metric.process(None, [
        DataSample().set_pred_score(torch.tensor(s)).set_gt_score(
            torch.tensor(t, dtype=torch.float32)).to_dict()
        for s, t in zip(SCORES, TARGETS)
    ])
    got = metric.evaluate(4)
    assert got['multi-label/CF1'] == pytest.approx(100 * 80 / 93)
    soft = DataSample().set_pred_score(torch.tensor(SCORES[0])).set_gt_score(
        torch.tensor([0.5, 0.0, 1.0]))
    with pytest.raises(ValueError, match='soft labels'):
        metric.process(None, [soft.to_dict()])
