"""YouTube-8M TFRecord reading, the demo generator, the attention tool."""
import filecmp
import os.path as osp

import numpy as np
import pytest
import torch
from tfrecord.reader import sequence_loader
from tfrecord.writer import TFRecordWriter

from tests.helpers.tool_runner import ROOT
from mmcma.datasets import youtube8m
from mmcma.datasets.youtube8m import YouTube8MDataset
from mmcma.datasets.youtube8m_records import (dequantize, index_tfrecord,
                                              quantize)
from mmcma.datasets.youtube8m_generator import generate_youtube8m, main

NUM_CLASSES = 6
TINY = dict(
    num_train=10,
    num_val=6,
    num_classes=NUM_CLASSES,
    min_frames=20,
    max_frames=31,
    files_per_split=2,
    seed=3)


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('yt8m'))
    generate_youtube8m(root, **TINY)
    return root


def _dataset(root, split='train', **kwargs):
    kwargs.setdefault('num_classes', NUM_CLASSES)
    return YouTube8MDataset(
        data_root=root, file_pattern=f'{split}/*.tfrecord', **kwargs)


def _reference_records(root, split='train'):
    """Records read with the tfrecord package's own reader."""
    records = []
    for path in sorted(osp.join(root, split, f'{split}{i:02d}.tfrecord')
                       for i in range(TINY['files_per_split'])):
        records += list(sequence_loader(path, None))
    return records


def _write(path, records):
    """Write SequenceExamples given as (context, sequence) datum pairs."""
    writer = TFRecordWriter(path)
    for context, sequence in records:
        writer.write(context, sequence)
    writer.close()


def _record(video_id=b'ab', labels=(1, ), frames=3, rgb_size=1024):
    return ({
        'id': (video_id, 'byte'),
        'labels': (list(labels), 'int')
    }, {
        'rgb': ([bytes(rgb_size)] * frames, 'byte'),
        'audio': ([bytes(128)] * frames, 'byte')
    })


def test_dequantize_follows_youtube8m():
    # utils.Dequantize: q * 4/255 + 4/512 - 2.
    codes = np.array([0, 128, 255], dtype=np.uint8)
    expected = codes * (4 / 255) + 4 / 512 - 2
    np.testing.assert_allclose(dequantize(codes), expected, atol=1e-6)
    all_codes = np.arange(256, dtype=np.uint8)
    assert (quantize(dequantize(all_codes)) == all_codes).all()
    x = np.linspace(-1.9, 1.9, 101)
    assert np.abs(dequantize(quantize(x)) - x).max() <= 2 / 255 + 1e-6
    with pytest.raises(ValueError):
        dequantize(codes, max_quantized_value=-2)


def test_generator_is_deterministic(tmp_path, demo):
    generate_youtube8m(str(tmp_path / 'a'), **TINY)
    for split in ('train', 'validate'):
        for i in range(2):
            name = f'{split}/{split}{i:02d}.tfrecord'
            assert filecmp.cmp(
                osp.join(demo, name), tmp_path / 'a' / name, shallow=False)
    generate_youtube8m(str(tmp_path / 'b'), **dict(TINY, seed=4))
    assert not filecmp.cmp(
        osp.join(demo, 'train/train00.tfrecord'),
        tmp_path / 'b' / 'train/train00.tfrecord',
        shallow=False)


def test_cli(tmp_path):
    main([
        '--out',
        str(tmp_path), '--num-train', '3', '--num-val', '2', '--num-classes',
        '4', '--min-frames', '20', '--max-frames', '20', '--files-per-split',
        '1', '--no-segments'
    ])
    entries = index_tfrecord(str(tmp_path / 'train' / 'train00.tfrecord'))
    assert len(entries) == 3 and entries[0]['segment_labels'] is None
    assert (tmp_path / 'vocabulary.csv').read_text().startswith('Index,Name')


def test_video_samples_match_tfrecord_reader(demo):
    ds = _dataset(demo, vocabulary_file=osp.join(demo, 'vocabulary.csv'))
    records = _reference_records(demo)
    assert len(ds) == TINY['num_train'] == len(records)
    assert ds.metainfo['classes'][:2] == ('skiing', 'snow')
    by_id = {ctx['id'].decode(): (ctx, feats) for ctx, feats in records}
    for i in range(len(ds)):
        sample = ds[i]
        ds_ = sample['data_samples']
        ctx, feats = by_id[ds_.video_id]
        rgb = np.stack([np.frombuffer(f, np.uint8) for f in feats['rgb']])
        assert sample['inputs'].dtype == torch.float32
        np.testing.assert_array_equal(sample['inputs'].numpy(),
                                      dequantize(rgb))
        assert ds_.num_frames == len(rgb) and ds_.num_classes == NUM_CLASSES
        assert ds_.gt_label.tolist() == sorted(ctx['labels'].tolist())


def test_label_matrix_without_decoding_frames(demo, monkeypatch):
    ds = _dataset(demo)
    expected = np.zeros((len(ds), NUM_CLASSES), np.uint8)
    for i in range(len(ds)):
        expected[i, ds[i]['data_samples'].gt_label] = 1

    def fail(*args):
        raise AssertionError('frames were decoded')

    monkeypatch.setattr(youtube8m, 'decode_frames', fail)
    monkeypatch.setattr(youtube8m, 'read_record', fail)
    fresh = _dataset(demo)
    matrix = fresh.get_label_matrix()
    assert matrix.dtype == np.uint8
    np.testing.assert_array_equal(matrix, expected)
    # Designed co-occurrence: label 1 ('snow') appears only with label 0.
    assert (matrix[matrix[:, 1] == 1, 0] == 1).all()


@pytest.mark.slow
def test_modalities_and_max_frames(demo):
    rgb = _dataset(demo)[0]['inputs']
    audio = _dataset(demo, modality='audio')[0]['inputs']
    both = _dataset(demo, modality='both')
    assert both.feature_dim == 1152 and audio.shape[1] == 128
    torch.testing.assert_close(both[0]['inputs'], torch.cat([rgb, audio], 1))
    capped = _dataset(demo, max_frames=7)[0]
    assert capped['inputs'].shape == (7, 1024)
    torch.testing.assert_close(capped['inputs'], rgb[:7])


def test_segment_samples(demo):
    ds = _dataset(demo, split='validate', label_level='segment')
    records = _reference_records(demo, 'validate')
    starts = sum(len(np.unique(c['segment_start_times'])) for c, _ in records)
    assert len(ds) == starts
    ctx, feats = records[0]
    first = [
        ds[i] for i in range(len(ds))
        if ds[i]['data_samples'].video_id == ctx['id'].decode()
    ]
    rgb = dequantize(np.stack([np.frombuffer(f, np.uint8)
                               for f in feats['rgb']]))
    for sample in first:
        meta = sample['data_samples']
        start = meta.segment_start
        np.testing.assert_array_equal(sample['inputs'].numpy(),
                                      rgb[start:start + 5])
        rows = ctx['segment_start_times'] == start
        positives = ctx['segment_labels'][rows & (ctx['segment_scores'] == 1)]
        assert meta.gt_label.tolist() == sorted(positives.tolist())
        assert meta.rated_label == sorted(
            set(ctx['segment_labels'][rows].tolist()))


def test_generated_frames_carry_the_label_window(demo):
    """Frames of a label's window point along the label's prototype."""
    from mmcma.datasets.youtube8m_generator import make_prototypes
    protos = make_prototypes(NUM_CLASSES, TINY['seed'], 0.6)['rgb']
    ds = _dataset(demo, split='validate', label_level='segment')
    inside, outside = [], []
    for i in range(len(ds)):
        sample = ds[i]
        x = sample['inputs'].numpy().mean(0)
        for label in sample['data_samples'].rated_label:
            score = x @ protos[label] / np.linalg.norm(protos[label])
            positive = label in sample['data_samples'].gt_label.tolist()
            (inside if positive else outside).append(score)
    assert min(inside) > max(outside)


def test_label_subset(demo):
    ds = _dataset(
        demo,
        num_classes=2,
        label_subset=[1, 0],
        vocabulary_file=osp.join(demo, 'vocabulary.csv'))
    assert ds.metainfo['classes'] == ('snow', 'skiing')
    full = _dataset(demo).get_label_matrix()
    np.testing.assert_array_equal(ds.get_label_matrix(), full[:, [1, 0]])
    with pytest.raises(ValueError, match='num_classes'):
        _dataset(demo, num_classes=3, label_subset=[1, 0])


def test_label_outside_vocabulary(demo):
    with pytest.raises(ValueError, match=r'train0\d\.tfrecord record \d+: '
                       r'label \d+ is outside the vocabulary'):
        _dataset(demo, num_classes=1)


def test_negative_label(tmp_path):
    _write(str(tmp_path / 'a.tfrecord'), [_record(), _record(labels=(-2, ))])
    with pytest.raises(ValueError, match='a.tfrecord record 1: negative'):
        YouTube8MDataset(data_root=str(tmp_path), num_classes=4)


def test_wrong_feature_size(tmp_path):
    _write(str(tmp_path / 'a.tfrecord'), [_record(rgb_size=1000)])
    ds = YouTube8MDataset(data_root=str(tmp_path), num_classes=4)
    with pytest.raises(ValueError, match=r'a.tfrecord record 0: \'rgb\' '
                       'frame 0 must be one 1024-byte feature'):
        ds[0]


def test_missing_id_and_no_files(tmp_path):
    context, sequence = _record()
    del context['id']
    _write(str(tmp_path / 'a.tfrecord'), [(context, sequence)])
    with pytest.raises(ValueError, match='record 0: the context has no "id"'):
        YouTube8MDataset(data_root=str(tmp_path), num_classes=4)
    with pytest.raises(FileNotFoundError, match='No files'):
        YouTube8MDataset(data_root=str(tmp_path / 'none'), num_classes=4)


def test_truncated_and_corrupt_files(tmp_path):
    path = tmp_path / 'a.tfrecord'
    _write(str(path), [_record(), _record(), _record()])
    data = path.read_bytes()
    offsets = [e['offset'] for e in index_tfrecord(str(path))]

    path.write_bytes(data[:-10])
    with pytest.raises(ValueError, match='a.tfrecord record 2: truncated'):
        YouTube8MDataset(data_root=str(tmp_path), num_classes=4)

    broken = bytearray(data)
    broken[offsets[1] + 3] ^= 0xFF  # the length of record 1
    path.write_bytes(bytes(broken))
    with pytest.raises(ValueError, match='record 1: corrupt record header'):
        YouTube8MDataset(data_root=str(tmp_path), num_classes=4)

    broken = bytearray(data)
    broken[offsets[2] - 100] ^= 0xFF  # a frame byte of record 1
    path.write_bytes(bytes(broken))
    ds = YouTube8MDataset(data_root=str(tmp_path), num_classes=4)
    ds[0]
    with pytest.raises(ValueError, match='record 1: corrupt record data'):
        ds[1]


def test_bad_arguments(demo):
    with pytest.raises(ValueError, match='modality'):
        _dataset(demo, modality='flow')
    with pytest.raises(ValueError, match='label_level'):
        _dataset(demo, label_level='frame')
    with pytest.raises(ValueError, match='either classes or vocabulary'):
        _dataset(
            demo,
            classes=[str(i) for i in range(NUM_CLASSES)],
            vocabulary_file=osp.join(demo, 'vocabulary.csv'))


# --------------------------------------------------------------------------
# tools/visualize_frame_attention.py
# --------------------------------------------------------------------------
def _load_tool():
    import importlib.util
    path = osp.join(ROOT, 'tools', 'visualize_frame_attention.py')
    spec = importlib.util.spec_from_file_location('visualize_frame_attention',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def test_plot_frame_attention(tmp_path):
    tool = _load_tool()
    out = tmp_path / 'fig.png'
    tool.plot_frame_attention(
        np.array([0.1, 0.6, 0.3]),
        str(out),
        num_frames=40,
        temporal_stride=16,
        title='skiing')
    assert out.read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match='do not fit'):
        tool.plot_frame_attention(np.ones(4), str(out), 40, 16)
    with pytest.raises(ValueError, match='NaN'):
        tool.plot_frame_attention(np.array([np.nan]), str(out))
    assert tool.resolve_label('snow', ['skiing', 'snow']) == 1
    assert tool.resolve_label('0', ['skiing', 'snow']) == 0
    with pytest.raises(ValueError, match='Unknown label'):
        tool.resolve_label('2', ['skiing', 'snow'])


CONFIG = """
custom_imports = dict(imports=[
    'mmcma.datasets.youtube8m', 'mmcma.models.backbones.snet',
    'mmcma.models.classifiers.video_classifier', 'mmcma.models.necks.cmt',
    'mmcma.models.heads.cma_head', 'mmcma.models.losses.weighted_bce'
])
model = dict(
    type='VideoClassifier',
    backbone=dict(type='SNet', in_channels=1024, channels=(8, 8, 8, 8)),
    neck=dict(type='CMTNeck', in_channels=8, reduced_channels=8,
              embed_dim=4, cmt_channels=()),
    head=dict(type='CMAHead', num_classes={num_classes}, in_channels=8,
              embed_dim=4, thr=0.5))
test_dataloader = dict(dataset=dict(
    type='YouTube8MDataset', data_root='{root}',
    file_pattern='validate/*.tfrecord', num_classes={num_classes},
    vocabulary_file='{root}/vocabulary.csv'))
"""


@pytest.mark.slow
def test_visualize_frame_attention_end_to_end(demo, tmp_path):
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    tool = _load_tool()
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG.format(root=demo, num_classes=NUM_CLASSES))
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(config)).model)
    model.init_weights()
    model.head.set_label_state('embedding', torch.randn(NUM_CLASSES, 4))
    ckpt = tmp_path / 'model.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    out = tmp_path / 'attention.png'
    tool.main([
        str(config),
        str(ckpt), '--video-id', 'v00002', '--label', 'snow', '--out',
        str(out)
    ])
    assert out.read_bytes().startswith(PNG_MAGIC)

    ds = _dataset(demo, split='validate')
    sample = ds[tool.find_video(ds, 'v00002')]
    steps, scores = tool.frame_attention(model.eval(), sample, 1)
    frames = sample['data_samples'].num_frames
    assert len(steps) == -(-frames // 16) and scores.shape == (NUM_CLASSES, )
    # Attention over the valid steps sums to 1 (or is all zero).
    assert steps.sum() == pytest.approx(1.0, abs=1e-5) or steps.sum() == 0


def test_generator_evidence_design():
    """Labels: one consecutive window; distractors: scattered frames."""
    from mmcma.datasets.youtube8m_generator import (make_prototypes,
                                                    sample_video)
    rng = np.random.default_rng(0)
    protos = make_prototypes(8, 0, 0.6)
    for _ in range(20):
        video = sample_video(rng, 8, 43, protos, 0.6, 0.7, 5, 3)
        distractors = set(video['evidence']) - set(video['labels'])
        assert len(distractors) <= 3
        for label, frames in video['evidence'].items():
            if label in video['labels']:
                assert frames == list(range(frames[0], frames[0] + 5))
                assert frames[0] % 5 == 0
            else:
                assert (np.diff(frames) > 1).all() and max(frames) < 40
        used = [t for f in video['evidence'].values() for t in f]
        assert len(used) == len(set(used))
        assert video['rgb'].shape == (43, 1024)
        assert video['audio'].shape == (43, 128)
