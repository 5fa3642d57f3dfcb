"""benchmarks/real_photo_first_step.py: the table, and the logit step of the
configs' optimiser on a tiny set of the real-photo mosaics."""
import pytest
from mmengine.config import Config

import bench_real_photo_e2e as bench
import real_photo_first_step as first_step


def test_markdown_table_ratios_to_the_first_family():
    rows = {'linear': dict(init_std=0.2, changes=[0.5, 1.0]),
            'mlgcn': dict(init_std=2.0, changes=[50.0, 20.0])}
    lines = first_step.markdown_table(rows).splitlines()
    assert lines[0] == ('| family | logit std at init | step 1 | step 2 | '
                        'step 1 / linear |')
    assert lines[1] == '|---|---|---|---|---|'
    assert lines[2] == '| linear | 0.20 | 0.50 | 1.00 | 1 |'
    assert lines[3] == '| mlgcn | 2.00 | 50.00 | 20.00 | 100 |'


@pytest.fixture(scope='module')
def tiny_photos(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('photo_mosaics'))
    bench.ensure_data(root, 16, 16)
    return root


def _config(family: str, data_root: str) -> Config:
    cfg = Config.fromfile(bench.family_configs()[family])
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = data_root
    cfg.train_dataloader.batch_size = 8
    return cfg


@pytest.mark.slow
def test_label_gcn_classifier_moves_far_faster_than_a_linear_head(
        tiny_photos):
    """The documented cause of ML-GCN's loss spike under the shared AdamW
    recipe (docs/benchmarks_real_photo_e2e.md): its classifier is a product
    of two GCN weight matrices, each entry moved by about lr, so its first
    step moves the logits tens of times further than the linear head's
    (measured 100x on the 600-image set). The steps are real (> 0) and the
    linear head's is of the order of lr x width x feature size."""
    linear = first_step.first_step_changes(_config('linear', tiny_photos), 1)
    mlgcn = first_step.first_step_changes(_config('mlgcn', tiny_photos), 1)
    assert 0 < linear['changes'][0] < 5
    assert mlgcn['changes'][0] > 10 * linear['changes'][0], (linear, mlgcn)


def test_box_supervised_family_is_refused_with_the_reason():
    with pytest.raises(SystemExit):
        first_step.main(['--families', 'spatial-context'])
    assert 'ground-truth boxes' in first_step.NOT_MEASURED['spatial-context']
