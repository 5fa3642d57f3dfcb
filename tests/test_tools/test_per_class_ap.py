"""tools/test.py prints the papers' table and, with --per-class-ap, the AP
of every label by name (the papers' per-class tables)."""
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config

from mmcma.engine.tool_options import enable_per_class_ap, per_class_problem
from mmcma.evaluation import average_precision, paper_metrics
from tests.helpers.demo_models import CLASSES, random_model, save_checkpoint
from tests.helpers.tool_runner import ROOT, run_tool

CONFIG = os.path.join(ROOT, 'configs', 'demo',
                      'linear_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
VIDEO_CONFIG = os.path.join(ROOT, 'configs', 'video',
                            'cma_snet-w64_1xb32-coslr-20e_yt8m-demo.py')
#: The ``scenes`` fixture's setting (tests/conftest.py): 12 val images.
SCENES = (1, 12, 32, 0)


@pytest.mark.slow
def test_table_and_per_class_ap(scenes, tmp_path):
    ckpt = save_checkpoint(random_model(CONFIG, seed=1),
                           str(tmp_path / 'model.pth'))
    table, pred = tmp_path / 'ap.csv', tmp_path / 'pred.npz'
    out = run_tool('tools/test.py', CONFIG, ckpt, '--work-dir',
                   str(tmp_path / 'work'), '--per-class-ap', str(table),
                   '--out', str(pred), '--metrics-out',
                   str(tmp_path / 'metrics.json'), '--cfg-options',
                   f'test_dataloader.dataset.data_root={scenes}')
    with np.load(pred) as data:
        scores, targets = data['scores'], data['targets'].astype(int)
    expected = paper_metrics(scores, targets)
    lines = out.splitlines()
    header = lines.index(next(line for line in lines
                              if line.split() == ['mAP', 'CP', 'CR', 'CF1',
                                                  'OP', 'OR', 'OF1']))
    assert "the papers' metrics (ML-GCN's evaluation)" in lines[header - 2]
    for row, suffix in ((lines[header + 1], ''), (lines[header + 2],
                                                   '_top3')):
        values = [float(v) for v in row.split()[1:]]
        keys = ['mAP'] + [k + suffix for k in ('CP', 'CR', 'CF1', 'OP', 'OR',
                                               'OF1')]
        assert values == pytest.approx([100 * expected[k] for k in keys],
                                       abs=0.006)

    # One line per class, by name, with its AP ('-' without positives).
    ap = average_precision(scores.astype(np.float64), targets)
    start = lines.index(next(line for line in lines
                             if line.split() == ['class', 'AP']))
    printed = lines[start + 1:start + 1 + len(CLASSES)]
    for name, value, line in zip(CLASSES, ap, printed):
        assert line.startswith(name)
        cell = line.split()[-1]
        if np.isnan(value):
            assert cell == '-'
        else:
            assert float(cell) == pytest.approx(100 * value, abs=0.006)
    with open(table, newline='') as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['class', 'AP'] and [r[0] for r in rows[1:]] == CLASSES
    with open(tmp_path / 'metrics.json') as f:
        saved = json.load(f)['multi-label/AP_per_class']
    assert [None if np.isnan(v) else pytest.approx(100 * v)
            for v in ap] == saved


def test_per_class_ap_needs_the_papers_metric():
    cfg = Config.fromfile(CONFIG)
    enable_per_class_ap(cfg)
    assert cfg.test_evaluator.per_class is True
    with pytest.raises(ValueError, match='--per-class-ap needs a '
                       r"PaperMultiLabelMetric .*\['VideoMultiLabelMetric'\]"):
        enable_per_class_ap(Config.fromfile(VIDEO_CONFIG))
    assert per_class_problem('ap.txt') == (
        '--per-class-ap ap.txt: the table is written as .csv or .json, got '
        '".txt"')
    assert per_class_problem('ap.csv') is None
    assert per_class_problem('') is None


@pytest.mark.slow
def test_tool_refuses_per_class_ap_on_a_video_config(tmp_path):
    ckpt = tmp_path / 'x.pth'
    ckpt.write_bytes(b'')
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', VIDEO_CONFIG, str(ckpt),
         '--per-class-ap'], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith(
        'error: --per-class-ap needs a PaperMultiLabelMetric')
