"""DumpMultiLabelPredictions: the .npz it writes."""
import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from mmcma.evaluation import DumpMultiLabelPredictions


def _sample(score, labels=None, gt_score=None, **meta):
    sample = DataSample(metainfo=meta).set_pred_score(torch.tensor(score))
    if labels is not None:
        sample.set_gt_label(labels)
    if gt_score is not None:
        sample.set_gt_score(torch.tensor(gt_score))
    return sample.to_dict()


def test_dump_writes_scores_targets_ids(tmp_path):
    out = tmp_path / 'sub' / 'pred.npz'
    metric = DumpMultiLabelPredictions(str(out), classes=['a', 'b', 'c'])
    metric.process(None, [
        _sample([0.1, 0.9, 0.3], [2, 0], img_path='x.jpg'),
        _sample([0.5, 0.2, 0.7], [], video_id='v1'),
        _sample([0.4, 0.4, 0.1], [1, 1], video_id='v2'),
    ])
    assert metric.compute_metrics(metric.results) == {}
    with np.load(out, allow_pickle=False) as data:
        np.testing.assert_array_equal(
            data['targets'], [[1, 0, 1], [0, 0, 0], [0, 1, 0]])
        assert data['targets'].dtype == np.uint8
        np.testing.assert_allclose(data['scores'][0], [0.1, 0.9, 0.3])
        assert data['scores'].dtype == np.float32
        assert data['ids'].tolist() == ['x.jpg', 'v1', 'v2']
        assert data['classes'].tolist() == ['a', 'b', 'c']


def test_dump_gt_score_and_missing_targets(tmp_path):
    out = tmp_path / 'pred.npz'
    metric = DumpMultiLabelPredictions(str(out))
    metric.process(None, [_sample([0.1, 0.9], gt_score=[1., 0.])])
    metric.compute_metrics(metric.results)
    with np.load(out) as data:
        assert data['targets'].tolist() == [[1, 0]]
    metric.process(None, [_sample([0.3, 0.2])])
    metric.compute_metrics(metric.results)
    with np.load(out) as data:
        assert 'targets' not in data and len(data['scores']) == 2


def test_dump_rejects_labels_outside_the_scores(tmp_path):
    metric = DumpMultiLabelPredictions(str(tmp_path / 'p.npz'))
    for bad in ([3], [-1]):
        with pytest.raises(ValueError, match=r"Sample 'v': gt_label \[-?\d\] "
                           'is outside the 3 predicted classes'):
            metric.process(None, [_sample([0.1, 0.2, 0.3], bad,
                                          video_id='v')])
    with pytest.raises(ValueError, match='must end with .npz'):
        DumpMultiLabelPredictions(str(tmp_path / 'p.npy'))
