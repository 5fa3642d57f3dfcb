"""benchmarks/bench_scale.py: a tiny run prints one finite row per step
(shape and values checked, not speed), and the synthetic knowledge graph is
a symmetric 0/1 graph without self-loops."""
import math

import numpy as np
import pytest

bench = pytest.importorskip('bench_scale')


def test_synthetic_knowledge_is_symmetric_without_self_loops():
    graph = bench.synthetic_knowledge(50, neighbours=3, seed=1)
    assert graph.shape == (50, 50)
    np.testing.assert_array_equal(graph, graph.T)
    assert set(np.unique(graph)) <= {0.0, 1.0}
    assert not graph.diagonal().any()
    # every label has its own draws as neighbours (some may be itself)
    assert (graph.sum(axis=1) >= 1).mean() > 0.9


@pytest.mark.slow
def test_tiny_run_prints_a_finite_table():
    text = bench.main(['--images', '600', '--labels', '24', '--depth', '18',
                       '--size', '32', '--batch', '2', '--asge-iters', '2',
                       '--warmup', '0'])
    rows = [line.split(' | ') for line in text.splitlines()
            if line.startswith('| ') and not line.startswith('| row')]
    assert [r[0] for r in rows] == [
        '| graph conditional', '| graph mlgcn', '| graph mlgcn/sparse',
        '| graph ks/sparse', '| asge', '| step linear',
        '| step cma', '| step ms-cma', '| step ml-gcn', '| step kssnet']
    for cells in rows:
        assert len(cells) == 8
        seconds, cpu, peak, added = (cells[i] for i in (1, 2, 5, 6))
        for value in (seconds, cpu, peak, added):
            assert math.isfinite(float(value)) and float(value) >= 0
        assert float(peak) > 0
    steps = [r for r in rows if r[0].startswith('| step')]
    # the linear model against itself
    assert steps[0][3] == steps[0][4] == '1.00'
    for cells in steps:
        assert float(cells[3]) > 0
        assert float(cells[4]) == pytest.approx(
            float(cells[2]) / float(steps[0][2]), rel=0.05, abs=0.02)
    assert rows[1][7] == rows[2][7]  # the same non-zeros, dense or sparse
    assert 'all-zero rows, 2 steps' in rows[4][7]


def die(row, args):
    """A row whose process is killed (as the out-of-memory killer does)."""
    import os
    os._exit(9)


def test_a_killed_row_is_reported_and_left_out(monkeypatch, capsys):
    monkeypatch.setattr(bench, 'run_row', die)
    text = bench.main(['--images', '10', '--labels', '4', '--graphs',
                       'mlgcn', '--heads', '--skip-asge'])
    assert 'graph mlgcn: the process was killed' in capsys.readouterr().out
    assert text.splitlines()[-1].startswith('|---')  # a table without rows
