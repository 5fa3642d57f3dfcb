"""MultiLabelInferencer, label selection, inputs, JSON and tools/infer.py."""
import glob
import json
import os
import runpy
import shutil

import mmcv
import numpy as np
import pytest
import torch

from mmcma.apis import MultiLabelInferencer, expand_inputs, init_model, to_json
from mmcma.datasets.synthetic_scenes import generate
from tests.helpers.demo_models import (CLASSES, CONFIGS, MEAN, STD,
                                       random_model, reference_scores,
                                       save_checkpoint)
from tests.helpers.tool_runner import ROOT, run_tool


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    """Five 64 px scene images: three in val/, two in val/sub/."""
    root = tmp_path_factory.mktemp('scenes')
    generate(str(root), 1, 5, 64, seed=0)
    folder = root / 'val'
    files = sorted(folder.glob('*.png'))
    (folder / 'sub').mkdir()
    for f in files[3:]:
        shutil.move(str(f), str(folder / 'sub' / f.name))
    (folder / 'notes.txt').write_text('not an image')
    return str(folder)


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp('ckpt')
    return {
        kind: save_checkpoint(random_model(cfg), str(root / f'{kind}.pth'))
        for kind, cfg in CONFIGS.items()
    }


@pytest.mark.parametrize('kind', ['linear', 'cma', 'mscma'])
def test_scores_are_model_predict(kind, images, checkpoints):
    inferencer = MultiLabelInferencer(CONFIGS[kind],
                                      pretrained=checkpoints[kind])
    files = expand_inputs(images)
    expected = reference_scores(inferencer.model, files)
    assert expected.std() > 0.05  # the comparison is not of constants
    for attention in (False, True):
        if attention and kind == 'linear':
            continue
        results = inferencer(images, batch_size=2, topk=2,
                             return_attention=attention)
        scores = np.stack([r['pred_scores'] for r in results])
        np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-6)
        for r, s in zip(results, expected):
            best = np.argsort(-s, kind='stable')[:2].tolist()
            assert r['pred_labels'] == best
            assert r['pred_classes'] == [CLASSES[k] for k in best]
            assert r['pred_label_scores'] == pytest.approx(s[best], abs=1e-6)
    assert [r['image'] for r in results] == files


def test_attention_maps(images, checkpoints):
    inferencer = MultiLabelInferencer(CONFIGS['mscma'],
                                      pretrained=checkpoints['mscma'])
    [result] = inferencer(os.path.join(images, 'sub'), thr=0.5,
                          return_attention=True)[:1]
    maps = result['attention']
    # C4, C5 (8x8 at 64 px, strides 1-2-1-1) and the extra stage (4x4).
    assert [m.shape for m in maps] == [(12, 8, 8), (12, 8, 8), (12, 4, 4)]
    for m in maps:  # eq. 8: each label's attention sums to 1 (or is 0)
        sums = m.reshape(12, -1).sum(1)
        assert np.all((np.abs(sums - 1) < 1e-5) | (sums == 0))
    with pytest.raises(TypeError, match='no get_attention'):
        MultiLabelInferencer(CONFIGS['linear'],
                             pretrained=checkpoints['linear'])(
                                 images, return_attention=True)


def test_csra_head_from_mmpretrain(images, tmp_path):
    options = {
        'model.backbone.out_indices': (3, ),
        'model.neck': None,
        'model.head': dict(_delete_=True, type='CSRAClsHead', num_classes=12,
                           in_channels=128, num_heads=1, lam=0.1,
                           loss=dict(type='CrossEntropyLoss',
                                     use_sigmoid=True)),
    }
    model = random_model(CONFIGS['mscma'], cfg_options=options)
    files = expand_inputs(images)
    expected = reference_scores(model, files)
    inferencer = MultiLabelInferencer(model)
    results = inferencer(files, batch_size=5, show_dir=str(tmp_path))
    np.testing.assert_allclose(np.stack([r['pred_scores'] for r in results]),
                               expected, atol=1e-6)
    for r, s in zip(results, expected):  # the head's rule: thr 0.5
        assert r['pred_labels'] == [k for k in range(12) if s[k] >= 0.5]
    # No class names anywhere: indices. One figure per image.
    assert results[0]['pred_classes'] == [str(k)
                                          for k in results[0]['pred_labels']]
    assert len(list(tmp_path.glob('*.png'))) == len(files)


def test_selection_rules(checkpoints):
    inferencer = MultiLabelInferencer(CONFIGS['cma'],
                                      pretrained=checkpoints['cma'])
    assert inferencer.selection(None, None) == {'thr': 0.5}  # the head's
    assert inferencer.selection(None, 4) == {'topk': 4}
    inferencer = MultiLabelInferencer(inferencer.model, topk=2)
    assert inferencer.selection(None, None) == {'topk': 2}  # the default
    assert inferencer.selection(0.3, None) == {'thr': 0.3}  # the call's
    with pytest.raises(ValueError, match='not both'):
        inferencer.selection(0.3, 2)
    with pytest.raises(ValueError, match=r'topk must be .*\[1, 12\].* 13'):
        MultiLabelInferencer(inferencer.model, topk=13)


def test_expand_inputs(images, tmp_path):
    files = expand_inputs(images)
    names = sorted(os.listdir(images))
    assert files == sorted(
        [os.path.join(images, n) for n in names if n.endswith('.png')] +
        [os.path.join(images, 'sub', n)
         for n in os.listdir(os.path.join(images, 'sub'))])
    assert len(files) == 5 and not any(f.endswith('.txt') for f in files)
    array = np.zeros((4, 4, 3), np.uint8)
    assert expand_inputs([files[0], array])[1] is array
    with pytest.raises(FileNotFoundError, match='input not found: .*nope'):
        expand_inputs(str(tmp_path / 'nope.png'))
    with pytest.raises(FileNotFoundError, match='no image'):
        expand_inputs(str(tmp_path))


def test_strict_checkpoint_loading(checkpoints, tmp_path):
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        init_model(CONFIGS['cma'], str(tmp_path / 'missing.pth'))
    # A checkpoint of another model: refused, naming the file and keys.
    with pytest.raises(RuntimeError,
                       match=r'(?s)linear\.pth does not fit.*branches'):
        init_model(CONFIGS['cma'], checkpoints['linear'])
    # The tool ends with that one message, no traceback.
    tool = runpy.run_path(os.path.join(ROOT, 'tools', 'infer.py'))
    with pytest.raises(SystemExit, match=r'^error: checkpoint .*linear\.pth '
                       'does not fit'):
        tool['main']([CONFIGS['cma'], checkpoints['linear'], str(tmp_path)])
    # Class names come from the checkpoint, else indices.
    model = random_model(CONFIGS['cma'])
    bare = save_checkpoint(model, str(tmp_path / 'bare.pth'), classes=None)
    inferencer = MultiLabelInferencer(CONFIGS['cma'], pretrained=bare)
    assert inferencer.label_names(12) == [str(k) for k in range(12)]
    loaded = init_model(CONFIGS['cma'], checkpoints['cma'])
    assert loaded._dataset_meta['classes'] == CLASSES


def test_config_classes(checkpoints, tmp_path):
    config = tmp_path / 'named.py'
    names = [f'c{k}' for k in range(12)]
    config.write_text(
        f"_base_ = ['{CONFIGS['cma']}']\n"
        f"test_dataloader = dict(dataset=dict(metainfo=dict(classes={names})))"
        '\n')
    model = random_model(CONFIGS['cma'])
    bare = save_checkpoint(model, str(tmp_path / 'bare.pth'), classes=None)
    assert init_model(str(config), bare)._dataset_meta['classes'] == names
    inferencer = MultiLabelInferencer(str(config), pretrained=bare,
                                      classes=names[:3])
    with pytest.raises(ValueError, match='classes must be 12 names .*got 3'):
        inferencer.label_names(12)


def test_to_json_schema():
    results = [dict(image='a.png', pred_scores=np.array([0.25, 0.75],
                                                       np.float32),
                    pred_labels=[1], pred_classes=['dog'],
                    pred_label_scores=[0.75])]
    record = json.loads(json.dumps(to_json(results, ['cat', 'dog'],
                                           {'thr': 0.5})))
    assert record == {
        'classes': ['cat', 'dog'],
        'selection': {'thr': 0.5},
        'predictions': [{
            'image': 'a.png', 'pred_labels': [1], 'pred_classes': ['dog'],
            'pred_label_scores': [0.75], 'pred_scores': [0.25, 0.75]
        }]
    }


@pytest.mark.slow
def test_infer_tool_end_to_end(images, checkpoints, tmp_path):
    out = tmp_path / 'results.json'
    show = tmp_path / 'figures'
    files = expand_inputs(images)
    log = run_tool('tools/infer.py', CONFIGS['mscma'], checkpoints['mscma'],
                   os.path.join(images, 'sub'), files[0], '--topk', '3',
                   '--batch-size', '2', '--out', str(out), '--show-dir',
                   str(show))
    record = json.loads(out.read_text())
    assert record['classes'] == CLASSES
    assert record['selection'] == {'topk': 3}
    inputs = files[3:] + files[:1]
    assert [p['image'] for p in record['predictions']] == inputs
    expected = reference_scores(
        init_model(CONFIGS['mscma'], checkpoints['mscma']), inputs)
    for pred, scores in zip(record['predictions'], expected):
        np.testing.assert_allclose(pred['pred_scores'], scores, atol=1e-6)
        best = np.argsort(-scores, kind='stable')[:3].tolist()
        assert pred['pred_labels'] == best
        assert pred['pred_classes'] == [CLASSES[k] for k in best]
        line = f'{pred["image"]}: {pred["pred_classes"][0]} '
        assert line in log
    pngs = sorted(p.name for p in show.glob('*.png'))
    assert pngs == sorted(os.path.basename(f)[:-4] + '.png' for f in inputs)


def test_spatial_context_patches_drawn_and_reported(images, checkpoints,
                                                    tmp_path, monkeypatch):
    from mmcma.models.roi_heads import top_patches
    from mmcma.visualization import AttentionVisualizer
    drawn = []
    add = AttentionVisualizer.add_patches
    monkeypatch.setattr(
        AttentionVisualizer, 'add_patches',
        lambda self, name, image, boxes, *args, **kw: drawn.append(
            (image, np.array(boxes))) or add(self, name, image, boxes, *args,
                                             **kw))
    kind = 'spatial-context'
    model = random_model(CONFIGS[kind])
    branches = model.head.branches
    with torch.no_grad():  # scores spread over (0, 1), boxes moved a bit
        for layer in (branches.location_regressor, branches.patch_classifier,
                      branches.object_label_predictor,
                      branches.context_label_predictor):
            layer.weight.mul_(0.01)
    inferencer = MultiLabelInferencer(
        CONFIGS[kind],
        pretrained=save_checkpoint(model, str(tmp_path / f'{kind}.pth')))
    files = expand_inputs(images)[:2]
    show = tmp_path / 'figures'
    results = inferencer(files, batch_size=2, patches=3, show_dir=str(show))
    # The reference: the model's patches of images normalised by hand.
    batch = np.stack([mmcv.imread(f)[..., ::-1] for f in files])
    inputs = (torch.from_numpy(batch.copy()).permute(0, 3, 1, 2).float() -
              MEAN) / STD
    with torch.no_grad():
        preds = inferencer.model.predict_patches(inputs)
    for i, (result, pred) in enumerate(zip(results, preds)):
        # By hand: each label's best patch, the 3 labels whose best is best.
        best, patch = pred.scores.max(0)
        labels = sorted(range(12), key=lambda c: -best[c])[:3]
        records = result['patches']
        assert [r['label'] for r in records] == labels
        assert len(set(labels)) == 3  # one patch per label
        assert [r['class'] for r in records] == [CLASSES[c] for c in labels]
        np.testing.assert_allclose([r['score'] for r in records],
                                   best[labels].numpy(), rtol=1e-5)
        boxes = pred.boxes[patch[labels]].numpy()
        np.testing.assert_allclose([r['box'] for r in records], boxes,
                                   atol=1e-4)
        np.testing.assert_allclose(
            [r['context_box'] for r in records],
            pred.context_boxes[patch[labels]].numpy(), atol=1e-4)
        # The first pair of each label that top_patches keeps (per-label
        # NMS) is the same patch.
        top = top_patches(pred, k=pred.scores.numel())
        first = {}
        for label, box in zip(top.labels.tolist(), top.boxes):
            first.setdefault(label, box)
        for label, box in zip(labels, boxes):
            np.testing.assert_allclose(first[label].numpy(), box, atol=1e-4)
        # Drawn over the 64 px image the model saw, in its pixels.
        image, drawn_boxes = drawn[i]
        assert image.shape == (64, 64, 3)
        np.testing.assert_allclose(drawn_boxes, boxes, atol=1e-4)
        assert result['figure'] == str(show / f'{os.path.basename(files[i])}')
        assert mmcv.imread(result['figure']) is not None
    record = json.loads(json.dumps(to_json(results, CLASSES, {'thr': 0.5})))
    assert record['predictions'][0]['patches'][0]['class'] == \
        results[0]['patches'][0]['class']
    # Without show_dir or patches, no patches; a non-spatial model refuses.
    assert 'patches' not in inferencer(files[0])[0]
    with pytest.raises(TypeError, match='patches=2 needs a model that '
                       'reports image patches'):
        MultiLabelInferencer(CONFIGS['linear'],
                             pretrained=checkpoints['linear'])(files[0],
                                                               patches=2)


@pytest.mark.slow
def test_tensorboard_snippet_of_the_readme(images, checkpoints, tmp_path):
    """README (TensorBoard): a visualizer config without ``name`` (mmengine
    builds visualizers with ``get_instance(name, ...)``) sends every
    ``show_dir`` figure to TensorBoard."""
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    inferencer = MultiLabelInferencer(
        CONFIGS['mscma'], pretrained=checkpoints['mscma'],
        visualizer=dict(type='AttentionVisualizer',
                        vis_backends=[dict(type='TensorboardVisBackend')],
                        save_dir=str(tmp_path / 'tb')))
    results = inferencer(images, show_dir=str(tmp_path / 'figures'))
    inferencer.visualizer.close()
    [events] = glob.glob(str(tmp_path / 'tb' / '**' / 'events.out.*'),
                         recursive=True)
    accumulator = EventAccumulator(os.path.dirname(events))
    accumulator.Reload()
    names = [os.path.basename(r['figure'])[:-4] for r in results]
    assert sorted(accumulator.Tags()['images']) == sorted(names)
    for name, result in zip(names, results):
        [summary] = accumulator.Images(name)
        np.testing.assert_array_equal(
            mmcv.imfrombytes(summary.encoded_image_string),
            mmcv.imread(result['figure']))
    # A second inferencer gets its own visualizer, not the first one's.
    other = MultiLabelInferencer(inferencer.model,
                                 visualizer=dict(type='AttentionVisualizer'))
    assert other.visualizer is not inferencer.visualizer
    assert not other.visualizer._vis_backends
