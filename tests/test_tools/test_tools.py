"""End to end through tools/train.py and tools/test.py (subprocesses)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mmcma.datasets.synthetic_scenes import generate
from tests.helpers.tool_runner import ROOT, run_tool, train_options

CONFIG = os.path.join(ROOT, 'configs', 'demo',
                      'linear_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')


#: The ``scenes`` fixture's setting (tests/conftest.py).
SCENES = (32, 16, 32, 0)


@pytest.mark.slow
def test_train_test_resume(scenes, tmp_path):
    work = str(tmp_path / 'work')
    log = run_tool('tools/train.py', CONFIG, '--work-dir', work,
                   *train_options(scenes, 1))
    assert 'Epoch(val) [1]' in log
    # No message a user cannot act on (mmcv-lite's missing op, mmengine's
    # FileClient deprecation, pycocotools' index messages).
    for noise in ('WARNING', 'UserWarning', 'creating index'):
        assert noise not in log, noise
    ckpt = os.path.join(work, 'epoch_1.pth')
    assert os.path.isfile(ckpt)

    out = run_tool('tools/test.py', CONFIG, ckpt, '--work-dir', work,
                   '--out', str(tmp_path / 'pred.npz'), '--metrics-out',
                   str(tmp_path / 'metrics.json'), *train_options(scenes, 1))
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines)
                  if line.split() == ['mAP', 'CP', 'CR', 'CF1', 'OP', 'OR',
                                      'OF1'])
    assert lines[header + 1].split()[0] == 'all'
    assert lines[header + 2].split()[0] == 'top-3'

    pred = np.load(tmp_path / 'pred.npz')
    assert pred['scores'].shape == (16, 12) == pred['targets'].shape
    assert ((pred['scores'] >= 0) & (pred['scores'] <= 1)).all()
    # The printed mAP is the mAP of the dumped predictions.
    from sklearn.metrics import average_precision_score
    t, s = pred['targets'], pred['scores']
    has_pos = t.sum(0) > 0
    expected = 100 * np.mean([average_precision_score(t[:, k], s[:, k])
                              for k in np.flatnonzero(has_pos)])
    metrics = json.load(open(tmp_path / 'metrics.json'))
    # The papers' mAP: labels without a positive image are left out.
    assert metrics['multi-label/mAP'] == pytest.approx(expected, abs=1e-3)
    assert float(lines[header + 1].split()[1]) == pytest.approx(
        metrics['multi-label/mAP'], abs=0.006)

    log = run_tool('tools/train.py', CONFIG, '--work-dir', work, '--resume',
                   *train_options(scenes, 2))
    assert 'resumed epoch: 1' in log
    assert 'Epoch(train) [2]' in log and 'Epoch(train) [1]' not in log
    assert os.path.isfile(os.path.join(work, 'epoch_2.pth'))


@pytest.mark.slow
def test_missing_checkpoint_is_clear(tmp_path):
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', CONFIG, str(tmp_path / 'nope.pth')],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'checkpoint not found' in proc.stderr


@pytest.mark.slow
def test_visualize_attention(tmp_path):
    """The attention tool writes its PNG, labels given by name or index."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.apis import get_model

    config = os.path.join(
        ROOT, 'configs', 'demo',
        'mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
    generate(str(tmp_path / 'data'), 2, 1, 64, seed=0)
    image = str(tmp_path / 'data' / 'train' / '000000.png')
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    model = get_model(cfg)
    model.head.set_label_state('embedding', torch.rand(12, 64))
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=[
                        f'c{i}' for i in range(12)]))), ckpt)

    out = str(tmp_path / 'att.png')
    run_tool('tools/visualize_attention.py', config, ckpt, image, '--out', out,
             '--labels', 'c3', '5')
    with open(out, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'

    # The maps (one per scale, each label's summing to 1) are checked where
    # the tool gets them: tests/test_inference.py::test_attention_maps.
