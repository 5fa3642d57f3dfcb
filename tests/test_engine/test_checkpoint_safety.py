"""Checkpoint loading: no pickled code runs, bad files and configs are clear.

The tools are run in this process through their ``main`` (an error ends them
with ``SystemExit(message)``, which Python prints as one line), and once in a
subprocess, as a user runs them.
"""
import os
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import load_from_http
from mmpretrain.apis import get_model

from mmcma.compat import TRUST_ENV, CheckpointError, load_local_checkpoint
from mmcma.models.label_state import label_state_modules
from tests.helpers.tool_runner import ROOT, tool, tool_error

MSCMA = os.path.join(
    ROOT, 'configs/demo/mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
CMA = os.path.join(
    ROOT, 'configs/demo/cma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')


class WriteFile:
    """Unpickling this calls ``open(path, 'w')``: creates the file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


class FetchMethod:
    """Unpickling this calls ``getattr(HistoryBuffer, 'update')``."""

    def __reduce__(self):
        from mmengine.logging.history_buffer import HistoryBuffer
        return getattr, (HistoryBuffer, 'update')


#: The ``scenes`` fixture's setting (tests/conftest.py).
SCENES = (4, 4, 32, 0)


def data_options(scenes):
    return ['--cfg-options'] + [
        f'{split}_dataloader.dataset.data_root={scenes}'
        for split in ('train', 'val', 'test')
    ]


def save_model(config, path, **options) -> str:
    """Save a checkpoint of ``config``'s model (with ``options`` merged),
    label state filled."""
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    model = get_model(cfg)
    for _, module in label_state_modules(model):
        for name, shape in module.label_state_shapes().items():
            module.set_label_state(name, torch.rand(shape))
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), path)
    return str(path)


@pytest.fixture(scope='module')
def mscma_ckpt(tmp_path_factory):
    return save_model(MSCMA, tmp_path_factory.mktemp('ckpt') / 'mscma.pth')


def evil_checkpoint(tmp_path, **save_kwargs):
    target = tmp_path / 'written_by_pickle'
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, meta=dict(note=WriteFile(str(target)))),
               path, **save_kwargs)
    return path, target


@pytest.mark.parametrize('zip_format', [True, False])
def test_pickled_code_is_refused(tmp_path, zip_format):
    path, target = evil_checkpoint(
        tmp_path, _use_new_zipfile_serialization=zip_format)
    for load in (load_local_checkpoint, CheckpointLoader.load_checkpoint):
        with pytest.raises(CheckpointError) as exc:
            load(path)
        message = str(exc.value)
        assert path in message and f'{TRUST_ENV}=1' in message
        assert '--trust-checkpoint' in message and 'io.open' in message
    assert not target.exists()


def test_getattr_limited_to_history_statistics(tmp_path):
    path = str(tmp_path / 'getattr.pth')
    torch.save(dict(state_dict={}, x=FetchMethod()), path)
    with pytest.raises(CheckpointError,
                       match=r"getattr\(HistoryBuffer,'update'\)"):
        load_local_checkpoint(path)


def test_opt_in_unpickles_fully(tmp_path, monkeypatch):
    path, target = evil_checkpoint(tmp_path)
    monkeypatch.setenv(TRUST_ENV, '1')
    assert load_local_checkpoint(path)['state_dict'] == {}
    assert target.exists()


def test_url_checkpoints_are_read_safely(tmp_path, monkeypatch):
    """``https://`` and ``torchvision://`` go through mmengine's
    ``load_from_http``, which unpickled downloads fully."""
    path, target = evil_checkpoint(tmp_path)

    def fake_download(url, dst, *args, **kwargs):
        with open(path, 'rb') as src, open(dst, 'wb') as out:
            out.write(src.read())

    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'hub'))
    monkeypatch.setattr(torch.hub, 'download_url_to_file', fake_download)
    with pytest.raises(CheckpointError, match='refused to load'):
        load_from_http('https://example.invalid/evil.pth')
    assert not target.exists()


def test_mmengine_checkpoint_types_allowed(mscma_ckpt):
    """What mmengine writes besides tensors: its message hub's
    HistoryBuffer (numpy arrays, the statistics methods) and numpy scalars.
    (tests/test_tools.py resumes and tests a real training checkpoint.)"""
    import numpy as np
    from mmengine.logging import MessageHub

    hub = MessageHub.get_instance('test_checkpoint_safety')
    hub.update_scalar('train/loss', 0.5)
    hub.update_info('eta', np.float64(3.0))
    ckpt = load_local_checkpoint(mscma_ckpt)
    ckpt['message_hub'] = hub.state_dict()
    torch.save(ckpt, mscma_ckpt + '.hub')
    needed = torch.serialization.get_unsafe_globals_in_checkpoint(
        mscma_ckpt + '.hub')
    assert {'builtins.getattr', 'numpy.dtype',
            'mmengine.logging.history_buffer.HistoryBuffer'} <= set(needed)
    loaded = load_local_checkpoint(mscma_ckpt + '.hub')['message_hub']
    assert loaded['log_scalars']['train/loss'].current() == 0.5
    assert loaded['runtime_info']['eta'] == np.float64(3.0)


@pytest.mark.slow
def test_tool_refuses_pickled_code_in_one_line(tmp_path, scenes):
    path, target = evil_checkpoint(tmp_path)
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', MSCMA, path, '--work-dir',
         str(tmp_path / 'work'), *data_options(scenes)],
        cwd=ROOT, capture_output=True, text=True,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: refused to load checkpoint {path}')
    assert 'Traceback' not in proc.stderr
    assert not target.exists()

    message = tool_error('train', MSCMA, '--resume', path, '--work-dir',
                         str(tmp_path / 'work'), *data_options(scenes))
    assert f'refused to load checkpoint {path}' in message
    assert not target.exists()


@pytest.mark.slow
def test_bad_files_one_sentence(tmp_path, scenes, mscma_ckpt):
    random_bytes = tmp_path / 'random.pth'
    random_bytes.write_bytes(
        torch.randint(0, 256, (4096, ), dtype=torch.uint8,
                      generator=torch.Generator().manual_seed(0)).numpy()
        .tobytes())
    truncated = tmp_path / 'truncated.pth'
    with open(mscma_ckpt, 'rb') as f:
        data = f.read()
    truncated.write_bytes(data[:len(data) // 2])
    for path in (random_bytes, truncated):
        message = tool_error('test', MSCMA, str(path), '--work-dir',
                             str(tmp_path / 'work'), *data_options(scenes))
        assert message.startswith(f'error: cannot read checkpoint {path}: ')


@pytest.mark.parametrize('config, options, expected', [
    (CMA, [], ['unexpected key in source state_dict: neck.extra_stage.',
               'size mismatch for neck.reductions.0.conv.weight: copying a '
               'param with shape torch.Size([64, 64, 1, 1]) from checkpoint, '
               'the shape in current model is torch.Size([64, 128, 1, 1])']),
    (MSCMA, ['model.neck.embed_dim=32', 'model.head.embed_dim=32'],
     ['size mismatch for neck.transformers.0.1.conv.weight: copying a param '
      'with shape torch.Size([64, 64, 1, 1]) from checkpoint, the shape in '
      'current model is torch.Size([32, 64, 1, 1])', 'more size mismatches']),
], ids=['mscma-ckpt-cma-config', 'embed-dim'])
def test_checkpoint_not_fitting_config(tmp_path, scenes, mscma_ckpt, config,
                                       options, expected):
    argv = [config, mscma_ckpt, '--work-dir', str(tmp_path / 'work'),
            *data_options(scenes), *options]
    message = tool_error('test', *argv)
    assert f'checkpoint {mscma_ckpt} does not fit the config' in message
    assert '--non-strict' in message
    for part in expected:
        assert part in message


def test_checkpoint_of_another_class_count(tmp_path, scenes):
    """A consistent 12-class config and data, a 10-class checkpoint."""
    ckpt = save_model(MSCMA, tmp_path / 'ten.pth', **{
        'model.head.num_classes': 10,
        'data_preprocessor.num_classes': 10
    })
    message = tool_error('test', MSCMA, ckpt, '--work-dir',
                         str(tmp_path / 'work'), *data_options(scenes))
    assert f'checkpoint {ckpt} does not fit the config' in message
    assert ('size mismatch for head.label_embedding: copying a param with '
            'shape torch.Size([10, 64]) from checkpoint, the shape in current '
            'model is torch.Size([12, 64])') in message


def test_missing_keys_named(tmp_path, scenes):
    ckpt = save_model(CMA, tmp_path / 'cma.pth')
    message = tool_error('test', MSCMA, ckpt, '--work-dir',
                         str(tmp_path / 'work'), *data_options(scenes))
    assert 'missing keys in source state_dict: neck.extra_stage.' in message


def test_non_strict_opt_out(tmp_path, scenes, mscma_ckpt):
    metrics = tool('test')([
        CMA, mscma_ckpt, '--non-strict', '--work-dir', str(tmp_path / 'work'),
        *data_options(scenes)
    ])
    assert 0 <= metrics['multi-label/mAP'] <= 100


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU runs --amp')
@pytest.mark.parametrize('name, args', [('train', []), ('test', ['x.pth'])])
def test_amp_without_gpu_is_clear(name, args, capsys):
    with pytest.raises(SystemExit) as exc:
        tool(name)([MSCMA, *args, '--amp'])
    assert exc.value.code == 2
    error = capsys.readouterr().err
    assert '--amp (mixed precision) needs a CUDA GPU' in error


@pytest.mark.slow
@pytest.mark.parametrize('flag', ['--resume', '--load-from'])
def test_train_refuses_a_checkpoint_of_another_model(tmp_path, scenes,
                                                     mscma_ckpt, flag):
    """tools/train.py loads strictly, as tools/test.py does: the MS-CMA
    checkpoint does not fit the CMA config (before: warnings, then a
    failure deep in the optimiser)."""
    message = tool_error('train', CMA, flag, mscma_ckpt, '--work-dir',
                         str(tmp_path / 'work'), *data_options(scenes))
    assert f'checkpoint {mscma_ckpt} does not fit the config' in message
    assert 'unexpected key in source state_dict: neck.extra_stage.' in message
    assert '--non-strict' in message


@pytest.mark.slow
def test_resume_needs_a_training_checkpoint(tmp_path, scenes, mscma_ckpt):
    """Weights alone fit the model but hold no epoch or optimiser state."""
    message = tool_error('train', MSCMA, '--resume', mscma_ckpt, '--work-dir',
                         str(tmp_path / 'work'), *data_options(scenes))
    assert f'checkpoint {mscma_ckpt} cannot be resumed from' in message
    assert '--load-from' in message


def test_resume_and_load_from_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exc:
        tool('train')([MSCMA, '--resume', 'a.pth', '--load-from', 'b.pth'])
    assert exc.value.code == 2
    assert 'give --resume or --load-from, not both' in capsys.readouterr().err
