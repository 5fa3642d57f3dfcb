"""benchmarks/bench_demo_seeds.py prints the papers' CF1 / OF1 (the keys of
PaperMultiLabelMetric), as mean ± std over the seeds."""
import statistics

import numpy as np
import pytest

from mmcma.evaluation import paper_metrics

bench = pytest.importorskip('bench_demo_seeds')


def test_table_columns_are_the_papers_metrics(monkeypatch, capsys):
    # What tools/test.py --metrics-out writes for three seeds.
    rng = np.random.default_rng(0)
    results = []
    for _ in range(3):
        targets = (rng.random((40, 6)) < 0.4).astype(int)
        scores = np.clip(rng.random(targets.shape) + 0.3 * targets, 0, 1)
        results.append({f'multi-label/{k}': 100 * v for k, v in
                        paper_metrics(scores, targets).items()})
    runs = iter(results)
    monkeypatch.setattr(bench, 'run', lambda *args: next(runs))
    bench.main(['--models', 'MS-CMA', '--seeds', '0', '1', '2'])
    out = capsys.readouterr().out
    assert "the papers' definitions" in out and 'CF1 = 2 CP CR' in out
    [row] = [line for line in out.splitlines() if line.startswith('| MS-CMA')]
    cells = [c.strip() for c in row.strip('|').split('|')]
    for cell, key in zip(cells[1:4], ('mAP', 'CF1', 'OF1')):
        values = [r[f'multi-label/{key}'] for r in results]
        assert cell == (f'{statistics.mean(values):.2f} ± '
                        f'{statistics.stdev(values):.2f}')
