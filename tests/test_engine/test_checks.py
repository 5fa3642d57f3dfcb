"""Class counts of dataset, data preprocessor and head must agree."""
import importlib.util
import os

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmcma.engine.checks import (ClassCountError, check_class_counts,
                                 class_count_problem)
from tests.helpers.tool_runner import ROOT

CONFIG = os.path.join(ROOT, 'configs', 'demo',
                      'linear_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')


#: The ``scenes`` fixture's setting (tests/conftest.py).
SCENES = (8, 4, 32, 0)  # 12 classes


def options(data_root):
    return {f'{split}_dataloader.dataset.data_root': data_root
            for split in ('train', 'val', 'test')}


def build_runner(scenes, work_dir, **overrides):
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({**options(scenes), **overrides})
    cfg.work_dir = str(work_dir)
    return Runner.from_cfg(cfg)


def test_class_count_problem():
    assert class_count_problem({'a': 3, 'b': 3, 'c': None}) is None
    assert class_count_problem({'a': None}) is None
    problem = class_count_problem({'dataset': 12, 'preprocessor': None,
                                   'head': 10})
    assert problem.startswith('the number of classes disagrees: '
                              'dataset = 12, head = 10;')


@pytest.mark.slow
def test_consistent_config_passes(scenes, tmp_path):
    runner = build_runner(scenes, tmp_path)
    check_class_counts(runner, 'train')
    check_class_counts(runner, 'test')
    with pytest.raises(ValueError, match='mode must be one of'):
        check_class_counts(runner, 'val')


@pytest.mark.parametrize('overrides, wrong', [
    ({'model.head.num_classes': 10}, 'model.head.num_classes = 10'),
    ({'data_preprocessor.num_classes': 10},
     'the data preprocessor num_classes = 10'),
])
@pytest.mark.slow
def test_mismatch_names_the_three_counts(scenes, tmp_path, overrides, wrong):
    runner = build_runner(scenes, tmp_path, **overrides)
    with pytest.raises(ClassCountError) as info:
        check_class_counts(runner, 'train')
    message = str(info.value)
    assert message.startswith('The number of classes disagrees: the train '
                              'dataset CocoMultiLabel (')
    assert 'instances_train.json) = 12' in message
    assert 'the val dataset CocoMultiLabel' in message
    assert wrong in message
    assert message.count('= 12') == 3 and message.endswith('.')


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cli_options(scenes, work_dir):
    return ['--work-dir', str(work_dir), '--cfg-options',
            *(f'{k}={v}' for k, v in options(scenes).items()),
            'model.head.num_classes=10']


@pytest.mark.slow
def test_tools_check_before_running(scenes, tmp_path, monkeypatch):
    # Both tools stop at the check, before any training step or before the
    # (here fake) checkpoint is read. By default the user sees one line ...
    with pytest.raises(SystemExit, match='^error: The number of classes '
                       'disagrees: .*model.head.num_classes = 10;'):
        load_tool('train').main([CONFIG, *cli_options(scenes, tmp_path)])
    # ... and the typed error with MMCMA_DEBUG=1.
    monkeypatch.setenv('MMCMA_DEBUG', '1')
    with pytest.raises(ClassCountError, match='model.head.num_classes = 10'):
        load_tool('train').main([CONFIG, *cli_options(scenes, tmp_path)])
    assert not any(name.endswith('.pth') for name in os.listdir(tmp_path))
    fake = tmp_path / 'fake.pth'
    fake.write_bytes(b'not a checkpoint')
    with pytest.raises(ClassCountError, match='the test dataset '
                       'CocoMultiLabel .*instances_val.json\\) = 12'):
        load_tool('test').main([CONFIG, str(fake),
                                *cli_options(scenes, tmp_path)])
