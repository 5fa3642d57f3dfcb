"""benchmarks/bench_onnx.py: a tiny run exports every model that exports and
prints finite latencies with onnxruntime's probabilities equal to PyTorch's
(float tolerance); speed is not checked."""
import math

import pytest

pytest.importorskip('onnxruntime')
bench = pytest.importorskip('bench_onnx')


@pytest.mark.slow
def test_tiny_run_rows_are_finite_and_outputs_agree():
    text = bench.main(['--depth', '18', '--size', '64', '--reps', '1',
                       '--warmup', '0', '--num-classes', '7'])
    rows = [line.split(' | ') for line in text.splitlines()
            if line.startswith('| ') and not line.startswith('| model')]
    assert [r[0][2:] for r in rows] == list(bench.EXPORTED)
    for cells in rows:
        eager, onnx, ratio = (float(v) for v in cells[1:4])
        assert all(math.isfinite(v) and v > 0 for v in (eager, onnx, ratio))
        assert ratio == pytest.approx(onnx / eager, rel=0.1)
        assert float(cells[4].rstrip(' |')) < 1e-4
