"""Dump multi-label predictions: a plain ``.npz`` file, or mmpretrain's pickle.
"""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric, DumpResults
from mmpretrain.registry import METRICS
from mmpretrain.structures import label_to_onehot


def _multi_hot(labels: torch.Tensor, num_classes: int,
               sample_id: str) -> np.ndarray:
    """(N,) uint8 targets of label indices; a repeated label counts once."""
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f'Sample {sample_id!r}: gt_label {labels.tolist()} '
                         f'is outside the {num_classes} predicted classes.')
    return (label_to_onehot(labels, num_classes) > 0).numpy().astype(np.uint8)


@METRICS.register_module()
class DumpMultiLabelPredictions(BaseMetric):
    """Save scores, targets and sample ids of the evaluated set.

    The file holds ``scores`` (S, N) float32 probabilities, ``targets``
    (S, N) uint8, ``ids`` (S,) str (image paths, or video ids) and
    ``classes`` (N,) str; load it
    with ``np.load(path)`` (no pickle).

    Args:
        out_file (str): Path ending in ``.npz``.
        classes (Sequence[str], optional): Class names stored alongside.
    """
    default_prefix = 'dump'

    def __init__(self, out_file: str,
                 classes: Optional[Sequence[str]] = None, **kwargs):
        if not out_file.endswith('.npz'):
            raise ValueError(f'--out must end with .npz, got {out_file}')
        super().__init__(**kwargs)
        self.out_file = out_file
        self.classes = list(classes or [])

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            score = sample['pred_score'].cpu().numpy()
            sample_id = str(sample.get('img_path', sample.get('video_id', '')))
            if 'gt_score' in sample:
                target = sample['gt_score'].cpu().numpy()
            elif 'gt_label' in sample:
                target = _multi_hot(sample['gt_label'].cpu(), score.size,
                                    sample_id)
            else:
                target = None
            self.results.append(
                dict(score=score, target=target, sample_id=sample_id))

    def compute_metrics(self, results: list) -> dict:
        scores = np.stack([r['score'] for r in results]).astype(np.float32)
        arrays = dict(scores=scores,
                      ids=np.array([r['sample_id'] for r in results]),
                      classes=np.array(self.classes))
        if all(r['target'] is not None for r in results):
            arrays['targets'] = np.stack([r['target'] for r in results
                                          ]).astype(np.uint8)
        os.makedirs(osp.dirname(osp.abspath(self.out_file)), exist_ok=True)
        np.savez(self.out_file, **arrays)
        return {}


@METRICS.register_module()
class DumpSamples(DumpResults):
    """mmengine's ``DumpResults`` (what mmpretrain's ``tools/test.py --out
    x.pkl`` writes: a pickled list of per-sample dicts) with a prefix, since
    mmengine warns about a metric without one.

    Load the file with ``mmengine.load``, which unpickles it: only files you
    wrote yourself; ``.npz`` (:class:`DumpMultiLabelPredictions`) is the
    format that loads without pickle.
    """
    default_prefix = 'dump'
