"""Configs shipped in the package: `mmcma::` bases, the model index
(mmpretrain's get_model / list_models, mmengine's hub), README config
snippets, editable and wheel installs."""
import glob
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.hub import get_model as hub_get_model
from mmengine.registry import DATASETS, HOOKS, VISUALIZERS
from mmpretrain import get_model, list_models
from mmpretrain import registry as mmpretrain_registry

import mmcma
from mmcma.config_scope import config_root
from mmcma.datasets.synthetic_scenes import generate
from tests.helpers.tool_runner import ROOT, run_tool
from tests.test_configs import CONFIGS, NAME

README = os.path.join(ROOT, 'README.md')
DEMO = 'demo/mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py'


def readme_snippet(name: str) -> str:
    """The code block between ``<!-- snippet: name -->`` and
    ``<!-- /snippet -->`` in README.md or a page of docs/."""
    pages = [README] + sorted(glob.glob(os.path.join(ROOT, 'docs', '*.md')))
    for page in pages:
        text = open(page, encoding='utf-8').read()
        match = re.search(
            rf'<!-- snippet: {re.escape(name)} -->\s*```python\n(.*?)```\s*'
            r'<!-- /snippet -->', text, re.S)
        if match:
            return match.group(1)
    raise AssertionError(f'no page of README.md or docs/ has snippet {name!r}')


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
    assert cfg.val_evaluator.type == 'PaperMultiLabelMetric'
    assert mmpretrain_registry.METRICS.get(cfg.val_evaluator.type)
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


def _index_files():
    with open(os.path.join(ROOT, 'mmcma', '.mim', 'model-index.yml')) as f:
        return yaml.safe_load(f)['Import']


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
    for metafile in _index_files():
        assert f'mmcma/.mim/{metafile}' in names
    assert mmcma.__version__ in os.path.basename(wheel)

    # Installed from the wheel (not this checkout): the hub functions find
    # the copies.
    target = tmp_path / 'site'
    proc = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-index',
         '--target', str(target), wheel], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    check = textwrap.dedent(f"""
        import mmcma
        from mmengine.hub import get_config
        from mmpretrain import get_model, list_models
        assert mmcma.__file__.startswith({str(target)!r}), mmcma.__file__
        cfg = get_config('mmcma::{DEMO}')
        assert cfg.filename.startswith({str(target)!r}), cfg.filename
        assert 'mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px' in \\
            list_models('*scenes*')
        model = get_model('linear_resnet18-w16_1xb16-coslr-24e_scenes-64px')
        print('wheel ok', type(model).__name__)
        """)
    proc = subprocess.run([sys.executable, '-c', check], cwd=str(tmp_path),
                          env=dict(os.environ, PYTHONPATH=str(target),
                                   OMP_NUM_THREADS='1'),
                          capture_output=True, text=True)
    assert 'wheel ok ImageClassifier' in proc.stdout, proc.stderr[-3000:]
    assert 'pkg_resources' not in proc.stderr


def _index():
    """{config path relative to .mim: (metafile, model entry)}."""
    mim = os.path.join(ROOT, 'mmcma', '.mim')
    with open(os.path.join(mim, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    entries = {}
    for metafile in index['Import']:
        with open(os.path.join(mim, metafile)) as f:
            meta = yaml.safe_load(f)
        collections = {c['Name'] for c in meta['Collections']}
        for model in meta['Models']:
            assert model['In Collection'] in collections, model['Name']
            assert model['Config'] not in entries, model['Config']
            entries[model['Config']] = (metafile, model)
    return entries


def test_model_index_lists_every_config_once_and_truly():
    entries = _index()
    assert sorted(entries) == sorted(
        os.path.relpath(p, ROOT) for p in CONFIGS)
    for config, (metafile, model) in entries.items():
        folder = config.split('/')[1]
        assert metafile == f'configs/{folder}/metafile.yml'
        assert model['Name'] == os.path.basename(config)[:-3]
        cfg = Config.fromfile(os.path.join(ROOT, config))
        field = NAME.match(os.path.basename(config)).groupdict()
        meta = model['Metadata']
        assert meta['Epochs'] == cfg.train_cfg.max_epochs
        assert meta['Batch Size'] == int(field['gpus']) * int(field['batch'])
        video = cfg.model.type == 'VideoClassifier'
        [result] = model['Results']
        assert result['Task'] == ('Multi-Label Video Classification' if video
                                  else 'Multi-Label Classification')
        # No weights are published, so no measured result is claimed.
        assert result['Metrics'] == {} and model['Weights'] is None


def test_mmpretrain_finds_mmcma_models_by_name():
    names = [model['Name'] for _, model in _index().values()]
    assert set(names) <= set(list_models())
    assert list_models('*scenes*') == sorted(
        n for n in names if n.endswith('_scenes-64px'))
    image = list_models(task='Multi-Label Classification')
    assert 'mscma_resnet101_8xb8-60e_coco-448px' in image
    assert 'resnet101-csra_1xb16_voc07-448px' in image  # mmpretrain's own
    model = get_model('mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px')
    assert type(model.head).__name__ == 'MSCMAHead'
    assert model._metainfo.name == \
        'mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px'
    with pytest.warns(UserWarning, match='Unable to find pre-defined'):
        get_model('linear_resnet18-w16_1xb16-coslr-24e_scenes-64px',
                  pretrained=True)
    mmcma.model_index.register_model_index()  # a second call is harmless


def test_mmengine_hub_reads_mmcma_configs():
    cfg = get_config(f'mmcma::{DEMO}')
    assert cfg.filename == os.path.join(config_root(), DEMO)
    assert cfg.model == Config.fromfile(os.path.join(ROOT, 'configs',
                                                     DEMO)).model
    base = get_config('mmcma::_base_/datasets/scenes_bs16_64.py')
    assert base.val_evaluator.type == 'PaperMultiLabelMetric'
    model = hub_get_model(
        'mmcma::video/cma_snet-w64_1xb32-coslr-20e_yt8m-demo.py')
    assert type(model).__name__ == 'VideoClassifier'


@pytest.mark.slow
def test_readme_full_mmpretrain_config_with_mmcma_data(tmp_path):
    # The two as bases of one config: the error the README explains.
    naive = write(tmp_path / 'naive.py', """
_base_ = ['mmpretrain::resnet/resnet18_8xb32_in1k.py',
          'mmcma::_base_/datasets/scenes_bs16_64.py']
""")
    with pytest.raises(KeyError, match='Duplicate key is not allowed'):
        Config.fromfile(naive)
    # The README's way: a config to train.
    scope = {}
    exec(readme_snippet('full-mmpretrain-config-with-mmcma-data'), scope)
    cfg = scope['cfg']
    assert cfg.optim_wrapper.optimizer.type == 'SGD'  # mmpretrain's recipe
    assert cfg.train_cfg.max_epochs == 100
    assert cfg.train_dataloader.dataset.type == 'CocoMultiLabel'
    assert cfg.data_preprocessor.to_onehot is True
    assert cfg.val_evaluator.type == 'PaperMultiLabelMetric'
    # Its dump is one config file the tools train.
    data = str(tmp_path / 'scenes')
    generate(data, 8, 4, 32, seed=0)
    cfg.dump(str(tmp_path / 'resnet18_scenes.py'))
    log = run_tool('tools/train.py', str(tmp_path / 'resnet18_scenes.py'),
                   '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                   f'train_dataloader.dataset.data_root={data}',
                   f'val_dataloader.dataset.data_root={data}',
                   'train_dataloader.batch_size=4', 'train_cfg.max_epochs=1',
                   'param_scheduler.end=1', 'default_hooks.logger.interval=1',
                   'train_dataloader.num_workers=0',
                   'val_dataloader.num_workers=0')
    assert 'Epoch(val) [1]' in log and 'multi-label/CF1' in log
    assert 'pkg_resources' not in log


@pytest.mark.slow
def test_tool_run_with_package_bases_is_quiet(tmp_path):
    config = write(tmp_path / 'user.py', f"""
_base_ = ['mmcma::{DEMO}']
""")
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', config, str(tmp_path / 'x.pth')],
        cwd=ROOT, capture_output=True, text=True)
    assert 'checkpoint not found' in proc.stderr
    assert 'pkg_resources' not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_mmcma_scope_needs_the_import_first(tmp_path):
    """mmengine reads `_base_` before anything of mmcma can run: without
    `import mmcma` its own assertion is what users see (README,
    Troubleshooting, names it and the fix); with the import it works."""
    config = write(tmp_path / 'user.py', f"_base_ = ['mmcma::{DEMO}']\n")
    read = f'from mmengine.config import Config; Config.fromfile({config!r})'
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-c', read], env=env,
                          cwd=str(tmp_path), capture_output=True, text=True)
    assert proc.stderr.strip().splitlines()[-1] == (
        'AssertionError: mmengine does not support to load mmcma config.')
    page = open(os.path.join(ROOT, 'docs', 'troubleshooting.md'),
                encoding='utf-8').read()
    assert '`AssertionError: mmengine does not support to load mmcma ' \
        'config.`' in page.replace('\n  ', ' ')
    proc = subprocess.run([sys.executable, '-c', 'import mmcma; ' + read],
                          env=env, cwd=str(tmp_path), capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
