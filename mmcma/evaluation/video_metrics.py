"""YouTube-8M video metrics: GAP, Hit@1, PERR and mAP.

The pure functions take ``pred`` (S, N) scores and ``target`` (S, N) 0/1
labels and return fractions in [0, 1]; :class:`VideoMultiLabelMetric`
reports them in percent, as mmpretrain does. Ties in scores are broken by
position (lower video index, then lower class index, ranks first): results
are deterministic. (YouTube-8M's ``average_precision_calculator`` shuffles
with a fixed seed before sorting, so its tie order differs.)
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS
from mmpretrain.structures import label_to_onehot


def _check(pred, target) -> Tuple[np.ndarray, np.ndarray]:
    """Convert to float64 scores and bool labels of one (S, N) shape."""
    pred = np.asarray(
        pred.detach().cpu() if isinstance(pred, torch.Tensor) else pred,
        dtype=np.float64)
    target = np.asarray(
        target.detach().cpu() if isinstance(target, torch.Tensor) else target)
    if pred.ndim != 2 or pred.shape != target.shape:
        raise ValueError('pred and target must both be (num_videos, '
                         f'num_classes), got {pred.shape} and '
                         f'{target.shape}.')
    if not np.isfinite(pred).all():
        raise ValueError('pred contains NaN or inf.')
    if not np.isin(target, (0, 1)).all():
        raise ValueError('target must contain only 0 and 1.')
    return pred, target.astype(bool)


def _rank(pred: np.ndarray) -> np.ndarray:
    """Class indices of each row by decreasing score (ties: lower index)."""
    return np.argsort(-pred, axis=1, kind='stable')


def _videos_with_positives(target: np.ndarray) -> np.ndarray:
    rows = target.any(axis=1)
    if not rows.any():
        raise ValueError('No video has a positive label.')
    return rows


def hit_at_one(pred, target) -> float:
    """Avg Hit@1: fraction of videos whose top-scored class is positive.

    Averaged over the videos with at least one positive (YouTube-8M's
    ``eval_util`` averages over all videos; every YouTube-8M video has a
    label, so the two agree there).

    Args:
        pred (array-like): Scores (S, N).
        target (array-like): Labels (S, N), 0/1.

    Returns:
        float: Hit@1 in [0, 1].
    """
    pred, target = _check(pred, target)
    rows = _videos_with_positives(target)
    top = _rank(pred)[:, 0]
    hits = target[np.arange(len(target)), top]
    return float(hits[rows].mean())


def precision_at_equal_recall_rate(pred, target) -> float:
    """PERR: per video with n positives, the precision of its top n classes.

    Averaged over the videos with at least one positive.

    Args:
        pred (array-like): Scores (S, N).
        target (array-like): Labels (S, N), 0/1.

    Returns:
        float: PERR in [0, 1].
    """
    pred, target = _check(pred, target)
    rows = _videos_with_positives(target)
    pred, target = pred[rows], target[rows]
    num_pos = target.sum(axis=1)
    ranked_labels = np.take_along_axis(target, _rank(pred), axis=1)
    in_top_n = np.arange(target.shape[1])[None, :] < num_pos[:, None]
    return float(((ranked_labels & in_top_n).sum(axis=1) / num_pos).mean())


def global_average_precision(pred, target, top_k: int = 20) -> float:
    """GAP: average precision of every video's top-k predictions pooled.

    Each video contributes its ``top_k`` highest (score, label) pairs; all
    pairs are sorted by score and
    ``GAP = sum_i precision@i * rel_i / P``, where ``P`` is the number of
    positive (video, class) pairs in the whole ground truth, retrieved or
    not. This is YouTube-8M's ``eval_util.calculate_gap``: the
    ``AveragePrecisionCalculator`` is given ``num_positives`` = the sum of
    the ground-truth label counts of all classes. GAP is 1 only when every
    video has at most ``top_k`` positives and all positive scores exceed all
    negative scores of the set.

    Args:
        pred (array-like): Scores (S, N).
        target (array-like): Labels (S, N), 0/1.
        top_k (int): Predictions kept per video. Defaults to 20.

    Returns:
        float: GAP in [0, 1].
    """
    if top_k < 1:
        raise ValueError(f'top_k must be positive, got {top_k}.')
    pred, target = _check(pred, target)
    total_pos = int(target.sum())
    if total_pos == 0:
        raise ValueError('No video has a positive label.')
    top = _rank(pred)[:, :top_k]
    scores = np.take_along_axis(pred, top, axis=1).ravel()
    labels = np.take_along_axis(target, top, axis=1).ravel()
    order = np.argsort(-scores, kind='stable')
    hits = labels[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / total_pos)


def average_precision_per_class(pred,
                                target,
                                top_k: Optional[int] = None) -> np.ndarray:
    """Non-interpolated AP of every class over the videos.

    ``AP_c = sum_i precision@i * rel_i / P_c`` over the videos ranked by
    their score for class c, ``P_c`` the number of positives of class c
    (the definition of mmpretrain's ``AveragePrecision``). With ``top_k``
    only each video's ``top_k`` predictions enter the ranked lists, the
    others count as not retrieved (YouTube-8M's ``eval_util`` computes its
    mAP from these sparse top-20 predictions).

    Args:
        pred (array-like): Scores (S, N).
        target (array-like): Labels (S, N), 0/1.
        top_k (int, optional): Predictions kept per video. Defaults to None
            (all).

    Returns:
        np.ndarray: (N,) AP per class; NaN for a class without positives.
    """
    pred, target = _check(pred, target)
    retrieved = np.ones_like(target)
    if top_k is not None:
        if top_k < 1:
            raise ValueError(f'top_k must be positive, got {top_k}.')
        retrieved = np.zeros_like(target)
        np.put_along_axis(retrieved, _rank(pred)[:, :top_k], True, axis=1)
    order = np.argsort(-pred, axis=0, kind='stable')
    hits = np.take_along_axis(target & retrieved, order, axis=0)
    kept = np.take_along_axis(retrieved, order, axis=0)
    # Rank among the retrieved videos of the class (non-retrieved ones
    # carry no hit and do not advance the rank of the following ones).
    ranks = np.maximum(np.cumsum(kept, axis=0), 1)
    precision = np.cumsum(hits, axis=0) / ranks
    num_pos = target.sum(axis=0)
    with np.errstate(invalid='ignore', divide='ignore'):
        ap = (precision * hits).sum(axis=0) / num_pos
    return np.where(num_pos > 0, ap, np.nan)


def mean_average_precision(pred, target, top_k: Optional[int] = None) -> float:
    """mAP over the classes that have at least one positive.

    Classes without positives have no defined AP and are left out (counting
    them as 0, as mmpretrain's ``AveragePrecision`` does, would lower the
    mean for reasons unrelated to the predictions).

    Args:
        pred (array-like): Scores (S, N).
        target (array-like): Labels (S, N), 0/1.
        top_k (int, optional): See :func:`average_precision_per_class`.

    Returns:
        float: mAP in [0, 1].
    """
    ap = average_precision_per_class(pred, target, top_k)
    if np.isnan(ap).all():
        raise ValueError('No class has a positive label.')
    return float(np.nanmean(ap))


@METRICS.register_module()
class VideoMultiLabelMetric(BaseMetric):
    """YouTube-8M metrics: GAP, Avg Hit@1, PERR and mAP (in percent).

    Uses ``pred_score`` and ``gt_score`` (or ``gt_label`` with
    ``num_classes``) of the data samples.

    Args:
        top_k (int): Predictions per video pooled by GAP. Defaults to 20.
        map_top_k (int, optional): Predictions per video entering mAP;
            None uses all (20 reproduces YouTube-8M's ``eval_util``).
            Defaults to None.
        items (Sequence[str]): Metrics to report, from ``'GAP'``,
            ``'Hit@1'``, ``'PERR'``, ``'mAP'``. Defaults to all four.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            ``'video'``.
    """
    default_prefix: Optional[str] = 'video'
    ITEMS = ('GAP', 'Hit@1', 'PERR', 'mAP')

    def __init__(self,
                 top_k: int = 20,
                 map_top_k: Optional[int] = None,
                 items: Sequence[str] = ITEMS,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        unknown = set(items) - set(self.ITEMS)
        if unknown or not items:
            raise ValueError(f'items must be chosen from {self.ITEMS}, got '
                             f'{tuple(items)}.')
        self.top_k = top_k
        self.map_top_k = map_top_k
        self.items = tuple(items)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store the scores and multi-hot labels of a batch."""
        for sample in data_samples:
            pred = sample['pred_score'].detach().cpu()
            if 'gt_score' in sample:
                gt = sample['gt_score'].detach().cpu()
            else:
                gt = label_to_onehot(sample['gt_label'].cpu(), pred.numel())
            self.results.append(dict(pred_score=pred, gt_score=gt))

    def compute_metrics(self, results: List[dict]) -> dict:
        """Compute the metrics of all collected results."""
        pred = torch.stack([r['pred_score'] for r in results]).numpy()
        target = (torch.stack([r['gt_score'] for r in results]) > 0).numpy()
        functions = {
            'GAP': lambda: global_average_precision(pred, target, self.top_k),
            'Hit@1': lambda: hit_at_one(pred, target),
            'PERR': lambda: precision_at_equal_recall_rate(pred, target),
            'mAP': lambda: mean_average_precision(pred, target,
                                                  self.map_top_k),
        }
        return {name: functions[name]() * 100.0 for name in self.items}
