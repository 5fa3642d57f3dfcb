"""Pipeline steps checked by name when a tool loads its config."""
import os

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmcma.engine.pipeline_check import check_pipelines
from mmcma.io import InputOptionError
from tests.helpers.tool_runner import ROOT

DEMO = os.path.join(
    ROOT, 'configs/demo/cma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')


@pytest.fixture
def cfg():
    init_default_scope('mmpretrain')
    return Config.fromfile(DEMO)


@pytest.mark.slow
def test_every_shipped_config_passes():
    init_default_scope('mmpretrain')
    folder = os.path.join(ROOT, 'configs')
    checked = 0
    for dirpath, _, files in os.walk(folder):
        if '_base_' in dirpath:
            continue
        for name in files:
            if name.endswith('.py'):
                check_pipelines(Config.fromfile(os.path.join(dirpath, name)))
                checked += 1
    assert checked > 20


def test_unknown_option_names_the_key_and_valid_ones(cfg):
    cfg.train_dataloader.dataset.pipeline[1]['probb'] = 0.5
    step = cfg.train_dataloader.dataset.pipeline[1]['type']
    with pytest.raises(InputOptionError) as e:
        check_pipelines(cfg)
    message = str(e.value)
    assert message.startswith(
        f"train_dataloader.dataset.pipeline[1] ({step}): unknown option "
        "'probb'; valid options: ")


def test_unknown_type_and_missing_option(cfg):
    cfg.val_dataloader.dataset.pipeline[0] = dict(type='LoadImageFromFiel')
    with pytest.raises(InputOptionError, match=r'val_dataloader.dataset.'
                       r"pipeline\[0\]: unknown transform type "
                       "'LoadImageFromFiel'"):
        check_pipelines(cfg)
    cfg.val_dataloader.dataset.pipeline[0] = dict(type='RandomResizedCrop')
    with pytest.raises(InputOptionError, match=r"pipeline\[0\] "
                       r"\(RandomResizedCrop\): missing the option 'scale'"):
        check_pipelines(cfg)


def test_nested_transforms_are_checked(cfg):
    cfg.tta_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='TestTimeAug', transforms=[
            [dict(type='RandomFlip', prob=1.0, directon='horizontal')],
            [dict(type='PackInputs')]])]
    with pytest.raises(InputOptionError, match=r'tta_pipeline\[1\]\.'
                       r"transforms\[0\]\[0\] \(RandomFlip\): unknown "
                       "option 'directon'"):
        check_pipelines(cfg)
