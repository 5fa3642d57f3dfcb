"""Every config in configs/ builds its model and runs a forward pass."""
import glob
import os

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmcma
from mmcma.models import label_state_modules

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(os.path.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p)


def _strip_pretrained(cfg):
    """Drop init_cfg so building never downloads weights."""
    if isinstance(cfg, dict):
        cfg.pop('init_cfg', None)
        for value in cfg.values():
            _strip_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            _strip_pretrained(value)


def dummy_inputs(cfg):
    """Images (2, 3, 64, 64), or frame features (2, D, 40) for video."""
    if cfg.model.type == 'VideoClassifier':
        return torch.rand(2, cfg.model.backbone.in_channels, 40)
    return torch.rand(2, 3, 64, 64)


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[os.path.relpath(p, ROOT) for p in CONFIGS])
def test_config_builds_and_runs(path):
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(path)
    _strip_pretrained(cfg.model)
    model = MODELS.build(cfg.model).eval()
    for _, module in label_state_modules(model):
        for name, shape in module.label_state_shapes().items():
            module.set_label_state(name, torch.rand(shape))
    inputs = dummy_inputs(cfg)
    with torch.no_grad():
        samples = model(inputs, mode='predict')
    num_classes = cfg.model.head.num_classes
    assert len(samples) == 2
    for sample in samples:
        score = sample.pred_score
        assert score.shape == (num_classes, )
        assert torch.isfinite(score).all()
        assert ((score >= 0) & (score <= 1)).all()
    # The config's datasets, schedule and hooks are complete enough to load.
    for key in ('train_dataloader', 'val_dataloader', 'val_evaluator',
                'optim_wrapper', 'train_cfg'):
        assert key in cfg, f'{path} lacks {key}'


def test_demo_config_loss_falls(tmp_path):
    """The MS-CMA demo model, with ASGE embeddings from the hook's code path,
    fits a fixed batch of generated scenes: its loss must fall."""
    from mmcma.datasets import CocoMultiLabel
    from mmcma.datasets.synthetic_scenes import generate
    from mmpretrain.apis import get_model

    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    generate(str(tmp_path), 16, 1, 64, seed=0)
    cfg = Config.fromfile(
        os.path.join(ROOT, 'configs/demo/mscma_r18-tiny_24e_scenes-64.py'))
    dataset = CocoMultiLabel(
        ann_file='annotations/instances_train.json', data_root=str(tmp_path),
        data_prefix='train', drop_empty=False,
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')])
    model = get_model(cfg)  # with the config's data preprocessor
    mmcma.fill_label_state(model, dataset, progress=False)
    batch = model.data_preprocessor(
        dict(inputs=[dataset[i]['inputs'] for i in range(16)],
             data_samples=[dataset[i]['data_samples'] for i in range(16)]),
        training=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    losses = []
    for _ in range(25):
        loss = model(**batch, mode='loss')['loss']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.isfinite(losses).all()
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3]), losses
