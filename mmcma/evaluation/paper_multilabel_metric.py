"""The papers' multi-label metrics: mAP, CP, CR, CF1, OP, OR, OF1.

MS-CMA, KSSNet and the spatial-context network report the metrics of
ML-GCN's evaluation (``AveragePrecisionMeter`` in its released code), for
"all" (every label whose score passes the threshold, 0.5) and for "top-3":

- per label c: ``Nc`` correct predictions, ``Np`` predictions, ``Ng``
  positives; precision ``Nc / Np``, recall ``Nc / Ng``;
- ``CP``, ``CR``: the means over labels of the per-label precision and
  recall; ``CF1 = 2 CP CR / (CP + CR)`` -- the harmonic mean of the two
  means, not the mean of the per-label F1 (reported here as ``macro-F1``,
  mmpretrain's ``MultiLabelMetric(average='macro')`` ``f1-score``, which is
  smaller or equal);
- ``OP = sum Nc / sum Np``, ``OR = sum Nc / sum Ng`` over all label
  decisions; ``OF1 = 2 OP OR / (OP + OR)``;
- top-3: a label is predicted when it is among the 3 highest scores of the
  image *and* passes the threshold (ML-GCN's ``overall_topk`` keeps a top-k
  label only when its logit is >= 0, i.e. its probability >= 0.5);
- ``mAP``: the mean over labels of the non-interpolated AP (the mean of the
  precision at the rank of each positive).

Edge cases, decided here (ML-GCN's code divides by zero on the second):

- a label with no predictions has precision 0 (ML-GCN sets ``Np = 1``);
  ``OP``'s denominator counts real predictions only (ML-GCN's code also
  adds the 1 of every such label there, which changes OP by at most the
  number of those labels over the number of predictions);
- a label with no positive in the evaluated set has no recall and no AP: it
  is left out of the label means (CP, CR, CF1, macro-F1, mAP) -- its false
  positives still count in OP -- and the metric reports how many were left
  out (``labels_without_positives``) and logs their indices. A set
  without any positive is an error.
- VOC's difficult labels (``gt_label_difficult``, or -1 in ``gt_score``)
  are skipped when ranking for AP and count as negatives in the counts, as
  ML-GCN's VOC evaluation does.
- ties: in the top-k the lower label index wins; in the AP ranking the
  earlier sample (ML-GCN sorts without a tie rule).
"""
import logging
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmpretrain.registry import METRICS
from mmpretrain.structures import label_to_onehot

#: Target codes: a positive, a negative, a difficult label (VOC).
POSITIVE, NEGATIVE, DIFFICULT = 1, 0, -1


class LabelCounts(NamedTuple):
    """Per-label decision counts, each (N,) int."""
    correct: np.ndarray  # Nc: predicted and positive
    predicted: np.ndarray  # Np
    positive: np.ndarray  # Ng


def check_scores_targets(scores, targets):
    """(S, N) float64 scores and int8 targets in {1, 0, -1}.

    Raises:
        ValueError: Shapes differ or are not 2-d, scores are not finite, or
            a target is not 1, 0 or -1.
    """
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets)
    if scores.ndim != 2 or scores.shape != targets.shape:
        raise ValueError('scores and targets must both be (num_samples, '
                         f'num_labels), got {scores.shape} and '
                         f'{targets.shape}.')
    if not np.isfinite(scores).all():
        raise ValueError('scores contain NaN or inf.')
    if not np.isin(targets, (POSITIVE, NEGATIVE, DIFFICULT)).all():
        raise ValueError('targets must be 1 (positive), 0 (negative) or -1 '
                         '(difficult), got the values '
                         f'{sorted(set(np.unique(targets).tolist()))}.')
    return scores, targets.astype(np.int8)


def label_decisions(scores: np.ndarray, thr: float,
                    topk: Optional[int] = None) -> np.ndarray:
    """Which labels are predicted: (S, N) bool.

    A label is predicted when its score is >= ``thr``; with ``topk`` it must
    also be among the ``topk`` highest scores of its sample (ties: the lower
    label index first).
    """
    decisions = scores >= thr
    if topk is not None:
        if topk < 1:
            raise ValueError(f'topk must be positive, got {topk}.')
        in_top = np.zeros_like(decisions)
        ranked = np.argsort(-scores, axis=1, kind='stable')[:, :topk]
        np.put_along_axis(in_top, ranked, True, axis=1)
        decisions &= in_top
    return decisions


def label_counts(decisions: np.ndarray, targets: np.ndarray) -> LabelCounts:
    """``Nc``, ``Np``, ``Ng`` of every label; difficult labels are
    negatives (ML-GCN maps them to 0 before counting)."""
    positive = targets == POSITIVE
    return LabelCounts(correct=(decisions & positive).sum(axis=0),
                       predicted=decisions.sum(axis=0),
                       positive=positive.sum(axis=0))


def _harmonic(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def precision_recall_f1(counts: LabelCounts) -> Dict[str, float]:
    """CP, CR, CF1, OP, OR, OF1 (fractions) and macro-F1.

    The label means are over the labels with a positive; a label without
    predictions has precision 0.

    Raises:
        ValueError: No label has a positive.
    """
    kept = counts.positive > 0
    if not kept.any():
        raise ValueError('No label has a positive in the evaluated set.')
    correct = counts.correct[kept].astype(np.float64)
    precision = correct / np.maximum(counts.predicted[kept], 1)
    recall = correct / counts.positive[kept]
    cp, cr = float(precision.mean()), float(recall.mean())
    total_predicted = int(counts.predicted.sum())
    op = (float(counts.correct.sum()) / total_predicted
          if total_predicted else 0.0)
    orr = float(counts.correct.sum()) / float(counts.positive.sum())
    with np.errstate(invalid='ignore'):
        f1 = np.where(precision + recall > 0,
                      2 * precision * recall / (precision + recall), 0.0)
    return dict(CP=cp, CR=cr, CF1=_harmonic(cp, cr), OP=op, OR=orr,
                OF1=_harmonic(op, orr), **{'macro-F1': float(f1.mean())})


def average_precision(scores: np.ndarray,
                      targets: np.ndarray) -> np.ndarray:
    """Non-interpolated AP of every label: (N,), NaN without positives.

    ``AP_c = sum_i precision@i * rel_i / Ng_c`` over the samples ranked by
    their score for label c; difficult samples are left out of the ranking.
    """
    order = np.argsort(-scores, axis=0, kind='stable')
    ranked = np.take_along_axis(targets, order, axis=0)
    hits = ranked == POSITIVE
    rank = np.cumsum(ranked != DIFFICULT, axis=0)  # among counted samples
    precision = np.cumsum(hits, axis=0) / np.maximum(rank, 1)
    num_pos = hits.sum(axis=0)
    with np.errstate(invalid='ignore', divide='ignore'):
        ap = (precision * hits).sum(axis=0) / num_pos
    return np.where(num_pos > 0, ap, np.nan)


def paper_metrics(scores, targets, thr: float = 0.5,
                  topk: Optional[int] = 3) -> Dict[str, float]:
    """All the papers' metrics, as fractions in [0, 1].

    Args:
        scores (array-like): (S, N) probabilities.
        targets (array-like): (S, N) 1 positive, 0 negative, -1 difficult.
        thr (float): Score a predicted label reaches. Defaults to 0.5.
        topk (int, optional): Labels per sample of the top-k setting; None
            leaves it out. Defaults to 3.

    Returns:
        dict: ``mAP``, ``CP`` ... ``OF1``, ``macro-F1``, the same with
        ``_top{k}`` for the top-k setting, and ``labels_without_positives``
        (a count).
    """
    scores, targets = check_scores_targets(scores, targets)
    results = precision_recall_f1(
        label_counts(label_decisions(scores, thr), targets))
    if topk is not None:
        top = precision_recall_f1(
            label_counts(label_decisions(scores, thr, topk), targets))
        results.update({f'{k}_top{topk}': v for k, v in top.items()})
    ap = average_precision(scores, targets)
    return dict(mAP=float(np.nanmean(ap)), **results,
                labels_without_positives=int(np.isnan(ap).sum()))


def _targets_of(sample: dict, num_labels: int) -> torch.Tensor:
    """(N,) int8 targets of a data sample: ``gt_score`` (1 / 0 / -1) or
    ``gt_label``, with ``gt_label_difficult`` labels that are not also in
    ``gt_label`` as -1 (mmpretrain's VOC metrics read them so)."""
    if 'gt_score' in sample:
        gt_score = sample['gt_score'].detach().cpu()
        if not torch.isin(gt_score, torch.tensor([1., 0., -1.])).all():
            raise ValueError(
                'gt_score must hold 1 (positive), 0 (negative) or -1 '
                f'(difficult), got {gt_score.tolist()} (soft labels have no '
                'CP / CR)')
        targets = gt_score.to(torch.int8)
    else:
        targets = label_to_onehot(sample['gt_label'].cpu(),
                                  num_labels).to(torch.int8)
    difficult = set(np.asarray(sample.get('gt_label_difficult', []),
                               dtype=np.int64).tolist())
    difficult -= set(torch.nonzero(targets == POSITIVE).flatten().tolist())
    if difficult:
        targets[sorted(difficult)] = DIFFICULT
    return targets


@METRICS.register_module()
class PaperMultiLabelMetric(BaseMetric):
    """The papers' multi-label metrics (ML-GCN's evaluation), in percent.

    Reports ``mAP``, ``CP``, ``CR``, ``CF1``, ``OP``, ``OR``, ``OF1`` for
    the labels scored >= ``thr`` and the same with the suffix ``_top{k}``
    for the top-``k`` labels that pass ``thr``, ``macro-F1`` (the mean of
    per-label F1: *not* the papers' CF1; it is what mmpretrain's
    ``MultiLabelMetric`` calls ``f1-score``) and, when a label of the set
    has no positive, ``labels_without_positives``. The module docstring has
    the definitions and the edge cases.

    Args:
        thr (float): Score a predicted label reaches. Defaults to 0.5.
        topk (int, optional): Labels per image of the top-k setting; None
            leaves it out. Defaults to 3.
        per_class (bool): Also report ``AP_per_class``, a list with the AP
            of every label (None for a label without positives). Defaults
            to False.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            ``'multi-label'``.
    """
    default_prefix: Optional[str] = 'multi-label'

    def __init__(self,
                 thr: float = 0.5,
                 topk: Optional[int] = 3,
                 per_class: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if topk is not None and topk < 1:
            raise ValueError(f'topk must be positive or None, got {topk}.')
        self.thr = thr
        self.topk = topk
        self.per_class = per_class

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store the scores and targets of a batch."""
        for sample in data_samples:
            score = sample['pred_score'].detach().cpu().float()
            self.results.append(
                dict(score=score, target=_targets_of(sample, score.numel())))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """The metrics of all collected results, in percent."""
        scores = torch.stack([r['score'] for r in results]).numpy()
        targets = torch.stack([r['target'] for r in results]).numpy()
        metrics = paper_metrics(scores, targets, self.thr, self.topk)
        left_out = metrics.pop('labels_without_positives')
        metrics = {k: v * 100.0 for k, v in metrics.items()}
        if left_out:
            missing = np.flatnonzero(~(targets == POSITIVE).any(axis=0))
            print_log(
                f'{left_out} label(s) have no positive in the evaluated set '
                f'and are left out of mAP, CP, CR, CF1 (indices '
                f'{missing.tolist()})', logger='current', level=logging.INFO)
            metrics['labels_without_positives'] = left_out
        if self.per_class:
            ap = average_precision(*check_scores_targets(scores, targets))
            metrics['AP_per_class'] = [
                None if np.isnan(v) else float(v) * 100.0 for v in ap
            ]
        return metrics
