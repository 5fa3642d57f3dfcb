"""Configs shipped in the package: `mmcma::` bases, README config snippets."""
import glob
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DATASETS, HOOKS, VISUALIZERS
from mmpretrain import get_model
from mmpretrain import registry as mmpretrain_registry

import mmcma
from mmcma.config_scope import config_root
from mmcma.datasets.synthetic_scenes import generate
from tests.helpers.tool_runner import ROOT

README = os.path.join(ROOT, 'README.md')
DEMO = 'demo/mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py'


def readme_snippet(name: str) -> str:
    """The code block between ``<!-- snippet: name -->`` and
    ``<!-- /snippet -->`` in README.md."""
    text = open(README, encoding='utf-8').read()
    match = re.search(
        rf'<!-- snippet: {re.escape(name)} -->\s*```python\n(.*?)```\s*'
        r'<!-- /snippet -->', text, re.S)
    assert match, f'README.md has no snippet {name!r}'
    return match.group(1)


def write(path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_config_root_is_the_configs_folder():
    root = config_root()
    assert os.path.samefile(root, os.path.join(ROOT, 'configs'))
    assert os.path.isfile(os.path.join(root, DEMO))
    assert os.path.samefile(os.path.join(os.path.dirname(root), 'tools'),
                            os.path.join(ROOT, 'tools'))


def test_readme_mscma_snippet_builds(tmp_path):
    cfg = Config.fromfile(write(tmp_path / 'my_mscma.py',
                                readme_snippet('mscma-on-mmpretrain')))
    # The ImageNet parts of the base are gone, the multi-label ones in.
    assert cfg.data_preprocessor.num_classes == 80
    assert cfg.data_preprocessor.to_onehot is True
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert dataset.type == 'CocoMultiLabel' and 'split' not in dataset
        assert mmpretrain_registry.DATASETS.get(dataset.type) is not None
    assert cfg.train_dataloader.dataset.pipeline[1].type == \
        'RandomResizedCrop'
    assert [e.type for e in cfg.val_evaluator] == ['AveragePrecision',
                                                   'MultiLabelMetric']
    assert cfg.test_evaluator == cfg.val_evaluator
    assert mmpretrain_registry.HOOKS.get(cfg.custom_hooks[0].type)

    model = get_model(cfg)
    assert type(model.head).__name__ == 'MSCMAHead'
    assert model.data_preprocessor.num_classes == 80
    model.head.set_label_state('embedding', torch.randn(80, 256))
    with torch.no_grad():
        images = torch.randn(1, 3, 64, 64)
        logits = model(images, mode='tensor')  # every head returns logits
        [sample] = model(images, mode='predict')
    assert logits.shape == (1, 80) and torch.isfinite(logits).all()
    torch.testing.assert_close(sample.pred_score, logits[0].sigmoid())


def test_user_config_inherits_mmcma_bases(tmp_path):
    scenes = tmp_path / 'scenes'
    generate(str(scenes), 4, 2, 32, seed=0)
    config = write(
        tmp_path / 'user.py', f"""
_base_ = ['mmcma::{DEMO}']
model = dict(head=dict(num_classes=12, topk=2, thr=None))
train_dataloader = dict(dataset=dict(data_root='{scenes}'))
""")
    cfg = Config.fromfile(config)
    assert cfg.model.head.type == 'MSCMAHead' and cfg.model.head.topk == 2
    # Components of an `mmcma::` base carry scope 'mmcma': the runner's
    # (mmengine's root) registries must build them.
    assert cfg.model._scope_ == 'mmcma'
    model = get_model(cfg)
    assert type(model.head).__name__ == 'MSCMAHead' and model.head.topk == 2
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 4 and len(dataset.metainfo['classes']) == 12
    hook = HOOKS.build(cfg.custom_hooks[0])
    assert type(hook).__name__ == 'LabelStateHook'
    visualizer = VISUALIZERS.build(dict(cfg.visualizer, name='user_cfg'))
    assert type(visualizer).__name__ == 'AttentionVisualizer'
    hook = HOOKS.build(cfg.default_hooks.visualization)
    assert type(hook).__name__ == 'MultiLabelVisualizationHook'

    # Dataset bases work the same way next to an MMPretrain model base.
    config = write(
        tmp_path / 'mixed.py', """
_base_ = ['mmpretrain::_base_/models/resnet18.py',
          'mmcma::_base_/datasets/coco_bs8_448.py']
""")
    cfg = Config.fromfile(config)
    assert cfg.train_dataloader.dataset.type == 'CocoMultiLabel'
    assert cfg.data_preprocessor.to_onehot is True


def test_readme_tensorboard_snippet_writes_events(tmp_path):
    pytest.importorskip('tensorboard')
    cfg = Config.fromfile(write(tmp_path / 'tb.py',
                                readme_snippet('tensorboard')))
    visualizer = VISUALIZERS.build(
        dict(cfg.visualizer, name='readme_tb', save_dir=str(tmp_path)))
    assert type(visualizer).__name__ == 'AttentionVisualizer'
    visualizer.add_scalars({'loss': 0.5}, step=1)
    visualizer.close()
    assert glob.glob(str(tmp_path / '**' / 'events.out.tfevents.*'),
                     recursive=True)


@pytest.mark.slow
def test_wheel_ships_configs_and_tools(tmp_path):
    """A wheel holds copies of the configs and tools under mmcma/.mim."""
    source = tmp_path / 'src'  # pip builds in the tree: not in ours
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        '.git', '.venv', 'data', 'work_dirs', 'build', '*.egg-info',
        '__pycache__'))
    proc = subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps',
         '--no-build-isolation', '--no-index', '-w', str(tmp_path),
         str(source)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [wheel] = glob.glob(str(tmp_path / 'mmcma-*.whl'))
    names = set(zipfile.ZipFile(wheel).namelist())
    configs = glob.glob(os.path.join(ROOT, 'configs', '**', '*.py'),
                        recursive=True)
    for path in configs:
        rel = os.path.relpath(path, ROOT).replace(os.sep, '/')
        assert f'mmcma/.mim/{rel}' in names
    for tool in ('train.py', 'test.py', 'infer.py', 'export_onnx.py',
                 'dist_train.sh', 'slurm_train.sh', 'slurm_test.sh'):
        assert f'mmcma/.mim/tools/{tool}' in names
    assert 'mmcma/.mim/model-index.yml' in names
    assert mmcma.__version__ in os.path.basename(wheel)
