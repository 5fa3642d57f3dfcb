"""ONNX export: onnxruntime gives PyTorch's probabilities, metadata, CLI."""
import json
import os
import runpy

import numpy as np
import pytest
import torch
from mmengine.config import Config

from tests.helpers.demo_models import CLASSES, CONFIGS, random_model, save_checkpoint
from mmcma.apis.onnx_export import (ExportRefusedError, export_onnx,
                                    pipeline_input_size)
from mmcma.io import InputOptionError
from tests.helpers.tool_runner import ROOT, run_tool

onnx = pytest.importorskip('onnx')
ort = pytest.importorskip('onnxruntime')


def probabilities(model, images):
    """``model.predict``'s scores of a normalised batch."""
    with torch.no_grad():
        return torch.stack([p.pred_score
                            for p in model.predict(images)]).numpy()


@pytest.mark.parametrize('kind', ['linear', 'cma', 'mscma'])
def test_onnxruntime_matches_pytorch(kind, tmp_path):
    model = random_model(CONFIGS[kind])
    out = str(tmp_path / f'{kind}.onnx')
    meta = export_onnx(model, out, (64, 64))
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    # Label state is in the graph: the image is the only input.
    assert [i.name for i in session.get_inputs()] == ['image']
    assert [o.name for o in session.get_outputs()] == ['probabilities']
    generator = torch.Generator().manual_seed(1)
    for batch in (1, 3):
        images = torch.randn(batch, 3, 64, 64, generator=generator)
        expected = probabilities(model, images)
        [got] = session.run(None, {'image': images.numpy()})
        assert got.shape == (batch, 12)
        assert np.abs(got - expected).max() <= 1e-4
        assert expected.std() > 0.05  # not a comparison of constants
    stored = {p.key: p.value for p in onnx.load(out).metadata_props}
    assert stored == meta
    assert json.loads(stored['classes']) == [str(k) for k in range(12)]
    assert json.loads(stored['input_size']) == [64, 64]
    assert json.loads(stored['mean']) == [127.5] * 3
    assert json.loads(stored['std']) == [64.0] * 3
    assert stored['channel_order'] == 'RGB'
    assert json.loads(stored['thr']) == 0.5 and 'topk' not in stored


def test_label_state_is_baked_in(tmp_path):
    """Changing the model's embeddings after export changes PyTorch's
    output, not the exported model's."""
    model = random_model(CONFIGS['cma'])
    out = str(tmp_path / 'cma.onnx')
    export_onnx(model, out, (64, 64), {'topk': 3})
    images = torch.randn(2, 3, 64, 64,
                         generator=torch.Generator().manual_seed(0))
    before = probabilities(model, images)
    model.head.set_label_state('embedding', torch.randn(12, 64))
    assert np.abs(probabilities(model, images) - before).max() > 1e-3
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    [got] = session.run(None, {'image': images.numpy()})
    assert np.abs(got - before).max() <= 1e-4
    stored = {p.key: p.value for p in onnx.load(out).metadata_props}
    assert json.loads(stored['topk']) == 3 and 'thr' not in stored


def test_pipeline_input_size():
    def size(*pipeline):
        return pipeline_input_size(Config(dict(test_dataloader=dict(
            dataset=dict(pipeline=[dict(type='LoadImageFromFile'),
                                   *pipeline, dict(type='PackInputs')])))))

    assert size() is None
    assert size(dict(type='Resize', scale=(448, 320))) == (320, 448)  # (w, h)
    assert size(dict(type='Resize', scale=64)) == (64, 64)
    assert size(dict(type='Resize', scale=64, keep_ratio=True)) is None
    assert size(dict(type='ResizeEdge', scale=256),
                dict(type='CenterCrop', crop_size=224)) == (224, 224)
    assert size(dict(type='CenterCrop', crop_size=224),
                dict(type='ResizeEdge', scale=256)) is None


@pytest.mark.slow
def test_export_tool(tmp_path):
    model = random_model(CONFIGS['mscma'])
    ckpt = save_checkpoint(model, str(tmp_path / 'mscma.pth'))
    out = tmp_path / 'model.onnx'
    # The demo's test pipeline resizes to 64 px: the input size comes
    # from it.
    log = run_tool('tools/export_onnx.py', CONFIGS['mscma'], ckpt, '--out',
                   str(out), '--topk', '2')
    assert f'written: {out}' in log
    stored = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(stored['input_size']) == [64, 64]
    assert json.loads(stored['classes']) == CLASSES
    assert stored['head'] == 'MSCMAHead' and json.loads(stored['topk']) == 2
    images = torch.randn(3, 3, 64, 64,
                         generator=torch.Generator().manual_seed(2))
    session = ort.InferenceSession(str(out),
                                   providers=['CPUExecutionProvider'])
    [got] = session.run(None, {'image': images.numpy()})
    assert np.abs(got - probabilities(model, images)).max() <= 1e-4
    # A test pipeline that keeps the image size: it must be given.
    tool = runpy.run_path(os.path.join(ROOT, 'tools', 'export_onnx.py'))
    with pytest.raises(SystemExit, match='error: .*give --input-size H W'):
        tool['main']([CONFIGS['mscma'], ckpt, '--out', str(out),
                      '--cfg-options', 'test_dataloader.dataset.pipeline=['
                      "dict(type='LoadImageFromFile'),"
                      "dict(type='PackInputs')]"])
    with pytest.raises(SystemExit, match=r'error: input '
                       r'size \(0, 64\): expected two whole numbers H W'):
        tool['main']([CONFIGS['mscma'], ckpt, '--out', str(out),
                      '--input-size', '0', '64'])


def test_spatial_context_export_is_refused(tmp_path):
    model = random_model(CONFIGS['spatial-context'])
    out = tmp_path / 'new' / 'sc.onnx'
    with pytest.raises(ExportRefusedError, match='ONNX export of '
                       'SpatialContextClassifier is not supported: the '
                       'number of patches per image'):
        export_onnx(model, str(out), (64, 64))
    assert not (tmp_path / 'new').exists()  # no file, no empty folder
    ckpt = save_checkpoint(model, str(tmp_path / 'sc.pth'))
    tool = runpy.run_path(os.path.join(ROOT, 'tools', 'export_onnx.py'))
    with pytest.raises(SystemExit, match='error: ONNX '
                       'export of SpatialContextClassifier is not supported'):
        tool['main']([CONFIGS['spatial-context'], ckpt, '--out', str(out),
                      '--input-size', '64', '64'])
    assert not (tmp_path / 'new').exists()


@pytest.mark.parametrize('size', [(0, 64), (64, -1), (64, 10**6), (64, 2.5),
                                  (64, )])
def test_invalid_export_size_is_named(tmp_path, size):
    out = tmp_path / 'new' / 'cma.onnx'
    with pytest.raises(InputOptionError, match=r'input size .*: expected two '
                       r'whole numbers H W in \[1, 8192\]'):
        export_onnx(random_model(CONFIGS['cma']), str(out), size)
    assert not (tmp_path / 'new').exists()


def test_size_the_model_cannot_run_is_named(tmp_path, monkeypatch):
    """A size the network cannot take (a stride or kernel larger than the
    input) is named, not left as a convolution error."""
    model = random_model(CONFIGS['cma'])

    def too_small(images):
        raise RuntimeError('Calculated padded input size per channel: '
                           '(1 x 1). Kernel size: (3 x 3).')

    monkeypatch.setattr(model, 'extract_feat', too_small)
    out = tmp_path / 'new' / 'cma.onnx'
    with pytest.raises(InputOptionError, match='input size 1 x 1: the model '
                       'cannot run on it .*Kernel size.*larger --input-size'):
        export_onnx(model, str(out), (1, 1))
    assert not (tmp_path / 'new').exists()
