"""Video end to end: generated YouTube-8M records -> tools/train.py -> test."""
import json
import os
import re

import numpy as np
import pytest

from mmcma.datasets import generate_youtube8m
from mmcma.evaluation import global_average_precision
from tests.helpers.tool_runner import ROOT, run_tool

CONFIG = os.path.join(ROOT, 'configs', 'video',
                      'cma_snet-w64_1xb32-coslr-20e_yt8m-demo.py')


@pytest.fixture(scope='module')
def yt8m(tmp_path_factory):
    root = tmp_path_factory.mktemp('yt8m')
    generate_youtube8m(str(root), num_train=256, num_val=64, seed=0)
    return str(root)


@pytest.mark.slow
def test_train_loss_falls_and_gap_beats_random(yt8m, tmp_path):
    work = str(tmp_path / 'work')
    opts = ['--cfg-options', 'train_cfg.max_epochs=6',
            'param_scheduler.end=6', 'train_cfg.val_interval=6',
            'default_hooks.logger.interval=1',
            f'train_dataloader.dataset.data_root={yt8m}',
            f'train_dataloader.dataset.vocabulary_file={yt8m}/vocabulary.csv',
            f'val_dataloader.dataset.data_root={yt8m}',
            f'val_dataloader.dataset.vocabulary_file={yt8m}/vocabulary.csv',
            f'test_dataloader.dataset.data_root={yt8m}',
            f'test_dataloader.dataset.vocabulary_file={yt8m}/vocabulary.csv']
    log = run_tool('tools/train.py', CONFIG, '--work-dir', work, *opts)
    assert 'LabelStateHook:' in log and 'final fitting loss' in log
    losses = [float(x) for x in re.findall(r'\bloss: ([0-9.]+)', log)]
    assert len(losses) >= 20
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    assert last < 0.8 * first, (first, last)

    out = run_tool('tools/test.py', CONFIG, os.path.join(work, 'epoch_6.pth'),
                   '--work-dir', work, '--out', str(tmp_path / 'pred.npz'),
                   '--metrics-out', str(tmp_path / 'metrics.json'), *opts)
    assert 'video/GAP' in out
    metrics = json.load(open(tmp_path / 'metrics.json'))
    pred = np.load(tmp_path / 'pred.npz')
    targets = pred['targets']
    assert pred['scores'].shape == targets.shape == (64, 16)
    # Random rankings of the same videos, averaged: the chance level.
    rng = np.random.default_rng(0)
    chance = np.mean([
        global_average_precision(rng.random(targets.shape), targets, 20)
        for _ in range(20)
    ])
    assert metrics['video/GAP'] / 100 > chance + 0.2, (metrics, chance)
    # The printed GAP is the GAP of the dumped predictions.
    assert metrics['video/GAP'] / 100 == pytest.approx(
        global_average_precision(pred['scores'], targets, 20), abs=1e-4)
