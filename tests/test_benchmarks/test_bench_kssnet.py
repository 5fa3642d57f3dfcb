"""benchmarks/bench_kssnet.py: the FLOP count sees the lateral hooks (it
matches a hand count), and a tiny run prints its table."""

import pytest


bench = pytest.importorskip('bench_kssnet')


def test_flops_count_the_gcn_and_the_laterals():
    """KSSNet - linear head = GCN products + lateral connections - the
    linear head's average pooling, by hand (multiply-adds; ResNet-18 at
    32 px: layer1..3 maps 8x8x64, 4x4x128, 2x2x256, layer4 1x1x512; the
    heads' products are both 512 x 80)."""
    models = bench.build_models(18, 80)
    linear = bench.complexity(models['linear head'], 32)['gflops']
    kssnet = bench.complexity(models['KSSNet'], 32)['gflops']
    sizes = [300, 64, 128, 256, 512]
    gcn = sum(80 * a * b + 80 * 80 * b for a, b in zip(sizes, sizes[1:]))
    laterals = sum(2 * 80 * hw * c for hw, c in [(64, 64), (16, 128),
                                                   (4, 256)])
    # mmengine counts an einsum by numpy's einsum_path estimate: 10 more
    # than the 573,440 products of the correlations here.
    assert (kssnet - linear) * 1e9 == pytest.approx(
        gcn + laterals - 512, abs=20)


@pytest.mark.slow
def test_tiny_run_prints_ratios():
    text = bench.main(['--depth', '18', '--size', '32', '--batch', '2',
                       '--iters', '1', '--warmup', '0'])
    rows = [line for line in text.splitlines() if line.startswith('| ')]
    assert [r.split(' | ')[0] for r in rows[2:]] == [
        '| linear head', '| ML-GCN', '| KSSNet']
    linear = rows[2].split(' | ')
    assert linear[2] == linear[5] == linear[8] == '1.000'  # x linear
