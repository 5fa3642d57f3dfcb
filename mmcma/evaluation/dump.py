"""Dump multi-label predictions to a plain ``.npz`` file."""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS


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
            if 'gt_score' in sample:
                target = sample['gt_score'].cpu().numpy()
            elif 'gt_label' in sample:
                target = np.zeros(score.shape, np.uint8)
                target[sample['gt_label'].cpu().numpy()] = 1
            else:
                target = None
            self.results.append(
                dict(score=score,
                     target=target,
                     sample_id=str(sample.get('img_path',
                                          sample.get('video_id', '')))))

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
