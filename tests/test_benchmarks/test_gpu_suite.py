"""benchmarks/gpu_suite.py on the CPU at its tiny setting: every model
trains one step and gets a finite row; AMP (bfloat16 autocast on the CPU)
runs through the same step; a failing model becomes a 'failed' row."""
import math

import pytest

suite = pytest.importorskip('gpu_suite')


def rows_of(text):
    return [line.split(' | ') for line in text.splitlines()
            if line.startswith('| ') and not line.startswith('| model')]


@pytest.mark.slow
def test_tiny_cpu_run_has_a_finite_row_per_model(tmp_path):
    out = tmp_path / 'suite.md'
    text = suite.main(['--tiny', '--device', 'cpu', '--no-dist',
                       '--precisions', 'fp32', '--out', str(out)])
    assert out.read_text() == text + '\n'
    rows = rows_of(text)
    assert [r[0][2:] for r in rows] == list(suite.MODELS_)
    for cells in rows:
        assert cells[1] == 'fp32' and len(cells) == 6
        for value in cells[2:5]:
            assert math.isfinite(float(value)) and float(value) > 0
        assert float(cells[5].rstrip(' |')) > 0
    assert rows[0][4] == '1.00'


@pytest.mark.slow
def test_tiny_amp_step_and_failed_rows(monkeypatch):
    text = suite.main(['--tiny', '--device', 'cpu', '--no-dist',
                       '--precisions', 'amp', '--models', 'linear'])
    (row, ) = rows_of(text)
    assert row[:2] == ['| linear', 'amp'] and float(row[2]) > 0

    def broken(*args):
        raise RuntimeError('out of memory\nmore')

    monkeypatch.setattr(suite, 'measure', broken)
    text = suite.main(['--tiny', '--device', 'cpu', '--no-dist',
                       '--models', 'cma', '--precisions', 'fp32'])
    assert '| cma | fp32 | failed: RuntimeError: out of memory |' in text


def test_spatial_context_uses_resnext_at_depth_101():
    cfg = suite.model_config('spatial-context', 101, 80, 448)
    assert cfg['backbone']['type'] == 'ResNeXt'
    assert cfg['backbone']['groups'] == 32
    assert suite.model_config('cma', 101, 80, 448)['backbone'][
        'depth'] == 101
