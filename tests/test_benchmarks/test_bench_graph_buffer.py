"""benchmarks/bench_graph_buffer.py: a tiny run reports, per GCN model, graph
buffers of 20 bytes per non-zero entry when kept sparse and 4 N^2 bytes when
dense, and a smaller saved state dict by about their difference."""
import pytest

bench = pytest.importorskip('bench_graph_buffer')


@pytest.mark.slow
def test_tiny_run_reports_o_nnz_buffers():
    n = 1100
    text = bench.main(['--images', '2000', '--labels', str(n), '--depth',
                       '18'])
    rows = [line.strip('| ').split(' | ') for line in text.splitlines()[2:]]
    assert [r[0] for r in rows] == ['ml-gcn', 'kssnet']
    mib = 2.0**20
    for _, nnz, graph, saved in rows:
        sparse, dense = (float(v) for v in graph.split(' / '))
        assert sparse == pytest.approx(20 * int(nnz) / mib, abs=0.01)
        assert dense == pytest.approx(4 * n * n / mib, abs=0.1)
        small, large = (float(v) for v in saved.split(' / '))
        assert large - small == pytest.approx(dense - sparse, abs=0.3)
