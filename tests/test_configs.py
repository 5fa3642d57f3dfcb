"""Every config in configs/ builds its model and runs a forward pass."""
import glob
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmcma  # noqa: F401
from mmcma.models import modules_needing_label_embedding

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
    for _, module in modules_needing_label_embedding(model):
        module.set_label_embedding(torch.rand(module.label_embedding.shape))
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
