"""What enters the inferencer is checked where it enters: image files
(header pixel limit, empty, truncated, not an image), arrays, every option,
configs it cannot serve; each refusal is one sentence naming the file or
option, and tools/infer.py prints it on one line. Figures never overwrite
one another; batches stream; the demo's test-time resize changes nothing on
the demo's own images."""
import glob
import io
import os
import re
import runpy

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import DATASETS

from mmcma.apis import (InferenceInputError, InferenceTypeError,
                        MultiLabelInferencer, unique_names)
from mmcma.apis.progress import track
from mmcma.models.utils import LabelRuleError
from tests.helpers.demo_models import CONFIGS, random_model, save_checkpoint
from tests.helpers.tool_runner import ROOT

#: The ``scenes`` fixture: the demo's own 64 px images.
SCENES = (1, 6, 64, 0)
VIDEO_CONFIG = os.path.join(ROOT, 'configs', 'video',
                            'cma_snet-w64_1xb32-coslr-20e_yt8m-demo.py')
NO_RESIZE = {'test_dataloader.dataset.pipeline': [
    dict(type='LoadImageFromFile'), dict(type='PackInputs')]}


@pytest.fixture(scope='module')
def ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp('ckpt') / 'mscma.pth'
    return save_checkpoint(random_model(CONFIGS['mscma']), str(path))


@pytest.fixture(scope='module')
def inferencer(ckpt):
    return MultiLabelInferencer(CONFIGS['mscma'], pretrained=ckpt)


@pytest.fixture(scope='module')
def bad_files(tmp_path_factory):
    """An empty PNG, a truncated PNG, a text file named .jpg and a PNG whose
    header says 2000 x 1000 pixels."""
    root = tmp_path_factory.mktemp('bad')
    (root / 'empty.png').write_bytes(b'')
    image = np.random.default_rng(0).integers(0, 256, (40, 50, 3), np.uint8)
    mmcv.imwrite(image, str(root / 'whole.png'))
    data = (root / 'whole.png').read_bytes()
    (root / 'truncated.png').write_bytes(data[:len(data) // 2])
    (root / 'notes.jpg').write_text('not an image')
    mmcv.imwrite(np.zeros((1000, 2000, 3), np.uint8), str(root / 'big.png'))
    return root


def test_demo_resize_is_an_identity_on_the_demo_images(scenes, ckpt):
    """The demo configs' test pipeline resizes to 64 px, the size the scenes
    are generated (and trained) at: on them it must change no pixel and no
    prediction, so the demo's metrics stay what they were."""
    cfg = Config.fromfile(CONFIGS['mscma'])
    assert cfg.test_dataloader.dataset.pipeline[1] == dict(
        type='Resize', scale=(64, 64))
    datasets = []
    for options in ({}, NO_RESIZE):
        c = cfg.copy()
        c.merge_from_dict(options)
        datasets.append(DATASETS.build(
            dict(c.test_dataloader.dataset, data_root=scenes)))
    assert len(datasets[0]) == 6
    for i in range(6):  # what tools/test.py feeds the model
        assert torch.equal(datasets[0][i]['inputs'], datasets[1][i]['inputs'])
    files = sorted(glob.glob(os.path.join(scenes, 'val', '*.png')))
    with_resize = MultiLabelInferencer(CONFIGS['mscma'], pretrained=ckpt)
    bare = cfg.copy()
    bare.merge_from_dict(NO_RESIZE)
    without = MultiLabelInferencer(bare, pretrained=ckpt)
    a = with_resize(files, batch_size=3, topk=3)
    b = without(files, batch_size=3, topk=3)
    assert np.stack([r['pred_scores'] for r in a]).std() > 0.01
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x['pred_scores'], y['pred_scores'])
        assert x['pred_labels'] == y['pred_labels']


def test_bad_image_files_are_named(inferencer, bad_files):
    expected = {
        'empty.png': r'image file \S*empty\.png is empty \(0 bytes\)',
        'truncated.png': r'image file \S*truncated\.png cannot be decoded',
        'notes.jpg': r'image file \S*notes\.jpg cannot be decoded',
    }
    for name, message in expected.items():
        with pytest.raises(InferenceInputError, match=message) as error:
            inferencer(str(bad_files / name))
        assert '\n' not in str(error.value)
    # Over the pixel limit, from the header, before decoding: the limit of
    # the config's test dataset, which the message says how to raise.
    small = Config.fromfile(CONFIGS['mscma'])
    small.merge_from_dict({'test_dataloader.dataset.max_pixels': 1_000_000})
    limited = MultiLabelInferencer(small, pretrained=None)
    with pytest.raises(InferenceInputError,
                       match=r'big\.png is 2000x1000 = 2,000,000 pixels, over '
                       r'the limit max_pixels=1,000,000: .*test_dataloader\.'
                       r'dataset\.max_pixels=2000000'):
        limited(str(bad_files / 'big.png'))
    assert len(inferencer(str(bad_files / 'big.png'))) == 1  # default 50 MP
    assert len(inferencer(str(bad_files / 'whole.png'))) == 1


def test_array_inputs(inferencer):
    rng = np.random.default_rng(1)
    colour = rng.integers(0, 256, (30, 40, 3), np.uint8)
    grey = colour[..., 1]
    results = inferencer([colour, grey, grey[..., None]], batch_size=3)
    assert [r['image'] for r in results] == [0, 1, 2]
    # A grey image is its three equal channels: equal logits, and equal
    # scores to float32 rounding (torch's sigmoid takes a vectorised path
    # for most of a batch and a scalar one for its tail, an ulp apart).
    np.testing.assert_allclose(results[1]['pred_scores'],
                               results[2]['pred_scores'], rtol=1e-6, atol=0)
    expected = inferencer(np.repeat(grey[..., None], 3, 2))[0]['pred_scores']
    np.testing.assert_allclose(results[1]['pred_scores'], expected,
                               atol=1e-6)  # batch of 3 against 1
    for bad, shown in ((colour.astype(np.float32), 'float32'),
                       (np.zeros((4, 4, 4), np.uint8), r'\(4, 4, 4\)'),
                       (np.zeros((0, 4, 3), np.uint8), r'\(0, 4, 3\)')):
        with pytest.raises(InferenceInputError,
                           match=rf'inputs\[1\] must be a BGR uint8 image '
                           rf'array .* got .*{shown}'):
            inferencer([colour, bad])
    with pytest.raises(InferenceInputError, match='got a int'):
        inferencer([3])
    with pytest.raises(InferenceInputError, match='empty list'):
        inferencer([])


@pytest.mark.parametrize('options, error, message', [
    (dict(batch_size=0), InferenceInputError,
     r'^batch_size must be a whole number >= 1, got 0$'),
    (dict(batch_size=2.0), InferenceInputError, 'batch_size must be .*2.0'),
    (dict(batch_size=True), InferenceInputError, 'batch_size .*got True'),
    (dict(topk=0), LabelRuleError, r'topk must be .*\[1, 12\].*got 0'),
    (dict(topk=-3), LabelRuleError, 'topk must be .*got -3'),
    (dict(topk=2.5), LabelRuleError, 'topk must be .*got 2.5'),
    (dict(topk=13), LabelRuleError, 'topk must be .*got 13'),
    (dict(thr=1.2), LabelRuleError, r'thr must be a number in \[0, 1\]'),
    (dict(thr=-0.5), LabelRuleError, 'thr must be .*got -0.5'),
    (dict(thr=0.5, topk=2), LabelRuleError, 'give thr or topk, not both'),
    (dict(patches=-1), InferenceInputError, 'patches must be .* >= 0'),
    (dict(patches=3), InferenceTypeError, 'patches=3 needs a model that '
     'reports image patches .*got ImageClassifier'),
    (dict(return_attention='yes'), InferenceInputError,
     "return_attention must be True or False, got 'yes'"),
    (dict(per_scale=1), InferenceInputError, 'per_scale must be True or'),
    (dict(return_datasamples=None), InferenceInputError,
     'return_datasamples must be True or False'),
    (dict(show_dir=3), InferenceInputError, 'show_dir must be a folder'),
    (dict(colour=True), InferenceTypeError,
     'unknown option colour: MultiLabelInferencer takes'),
])
def test_every_option_is_checked(inferencer, scenes, options, error,
                                 message, monkeypatch):
    read = []
    monkeypatch.setattr('mmcma.apis.io.read_image',
                        lambda *a: read.append(a) or 1 / 0)
    with pytest.raises(error, match=message) as caught:
        inferencer(os.path.join(scenes, 'val'), **options)
    assert isinstance(caught.value, (ValueError, TypeError))
    assert '\n' not in str(caught.value)
    assert not read  # checked before any image is read


def test_show_dir_must_be_a_folder(inferencer, scenes, tmp_path):
    afile = tmp_path / 'taken'
    afile.write_text('')
    with pytest.raises(InferenceInputError,
                       match=r'show_dir must be a folder, got the file'):
        inferencer(os.path.join(scenes, 'val'), show_dir=str(afile))
    with pytest.raises(InferenceTypeError, match='return_attention=True '
                       'needs a head that shows attention'):
        MultiLabelInferencer(random_model(CONFIGS['linear']))(
            os.path.join(scenes, 'val'), return_attention=True)


def test_configs_it_cannot_serve(tmp_path):
    with pytest.raises(InferenceTypeError,
                       match=r'reads frame features, not images: the '
                       r'inferencer serves image models'):
        MultiLabelInferencer(VIDEO_CONFIG)
    with pytest.raises(FileNotFoundError, match='config file not found'):
        MultiLabelInferencer(str(tmp_path / 'nope.py'))


def test_images_of_two_sizes_without_resize(scenes, ckpt, tmp_path):
    cfg = Config.fromfile(CONFIGS['mscma'])
    cfg.merge_from_dict(NO_RESIZE)
    bare = MultiLabelInferencer(cfg, pretrained=ckpt)
    small = np.zeros((32, 48, 3), np.uint8)
    first = sorted(glob.glob(os.path.join(scenes, 'val', '*.png')))[0]
    with pytest.raises(InferenceInputError,
                       match=r'\S+000000\.png and inputs\[1\] are 64x64 and '
                       r'32x48 after the test pipeline of .* add a Resize'):
        bare([first, small], batch_size=2)
    assert len(bare([first, small], batch_size=1)) == 2
    # The demo config resizes them to one size: they batch.
    resized = MultiLabelInferencer(CONFIGS['mscma'], pretrained=ckpt)
    assert len(resized([first, small], batch_size=2)) == 2


def test_unique_names():
    files = ['a/x.png', 'b/x.png', 'a/x_1.png', 'c/X.jpg', 'a/x.jpg',
             np.zeros(1), 'd/1.png']
    names = unique_names(files)
    assert names == ['x', 'x_2', 'x_1', 'X_3', 'x_4', '5', '1']
    assert len({n.lower() for n in names}) == len(files)
    assert unique_names(['q/0.png', np.zeros(1)]) == ['0', '1']
    assert unique_names([np.zeros(1), 'q/0.png']) == ['0', '0_1']


def test_batches_stream(inferencer, scenes, tmp_path, monkeypatch):
    """Each batch is read, drawn and turned into results before the next
    one is read."""
    import mmcma.apis.io as inputs
    events = []
    read = inputs.read_image
    monkeypatch.setattr(
        inputs, 'read_image',
        lambda path, *a: events.append(('read', os.path.basename(path)))
        or read(path, *a))
    draw = inferencer.visualizer.add_datasample
    monkeypatch.setattr(
        inferencer.visualizer, 'add_datasample',
        lambda name, *a, **k: events.append(('draw', name)) or draw(
            name, *a, **k))
    files = sorted(glob.glob(os.path.join(scenes, 'val', '*.png')))[:4]
    inferencer(files, batch_size=2, show_dir=str(tmp_path))
    # Batch 1 is read, then drawn (each figure re-reads its original), and
    # only then is batch 2 read.
    assert events == [
        ('read', '000000.png'), ('read', '000001.png'),
        ('read', '000000.png'), ('draw', '000000'),
        ('read', '000001.png'), ('draw', '000001'),
        ('read', '000002.png'), ('read', '000003.png'),
        ('read', '000002.png'), ('draw', '000002'),
        ('read', '000003.png'), ('draw', '000003')]


def test_progress_bar_only_on_terminals():
    out = io.StringIO()
    assert list(track(range(3), total=3, stream=out)) == [0, 1, 2]
    assert out.getvalue() == ''

    class Terminal(io.StringIO):

        def isatty(self):
            return True

    out = Terminal()
    assert list(track(range(3), total=3, stream=out)) == [0, 1, 2]
    text = re.sub(r'\x1b\[[0-9;?]*[A-Za-z]', '', out.getvalue())  # no ANSI
    assert 'Inference' in text and '100%' in text and text.endswith('\n')


def run_infer(argv, capsys):
    """tools/infer.py's main: (exit message or None, stdout)."""
    tool = runpy.run_path(os.path.join(ROOT, 'tools', 'infer.py'))
    try:
        tool['main'](argv)
        message = None
    except SystemExit as e:
        message = str(e.code)
    return message, capsys.readouterr()


@pytest.mark.parametrize('extra, message', [
    (['--batch-size', '0'], 'batch_size must be a whole number >= 1, got 0'),
    (['--topk', '0'], r'topk must be a whole number in \[1, 12\]'),
    (['--topk', '-1'], 'topk must be .*got -1'),
    (['--thr', '1.5'], r'thr must be a number in \[0, 1\], got 1.5'),
    (['--patches', '-2'], 'patches must be a whole number >= 0, got -2'),
    (['--patches', '2'], 'patches=2 needs a model that reports image patches'),
])
def test_infer_tool_options(scenes, ckpt, extra, message, capsys):
    error, _ = run_infer([CONFIGS['mscma'], ckpt,
                          os.path.join(scenes, 'val'), *extra], capsys)
    assert error is not None and error.startswith('error: ')
    assert '\n' not in error
    assert re.search(message, error), error


def test_infer_tool_files_and_paths(scenes, ckpt, bad_files, tmp_path,
                                    capsys):
    cases = [
        ([str(bad_files / 'empty.png')], 'empty.png is empty'),
        ([str(bad_files / 'truncated.png')], 'truncated.png cannot be '
         'decoded'),
        ([str(bad_files / 'notes.jpg')], 'notes.jpg cannot be decoded'),
        ([str(tmp_path / 'missing.png')], 'input not found: .*missing.png'),
        ([str(tmp_path)], 'folder .* holds no image'),
        ([os.path.join(scenes, 'val'), '--out', str(tmp_path)],
         '--out must be a JSON file path, got the folder'),
    ]
    for args, message in cases:
        error, _ = run_infer([CONFIGS['mscma'], ckpt, *args], capsys)
        assert error is not None and '\n' not in error, error
        assert re.search(message, error), error
    error, _ = run_infer([VIDEO_CONFIG, ckpt, os.path.join(scenes, 'val')],
                         capsys)
    assert 'reads frame features' in error and '\n' not in error


def test_a_failing_transform_names_the_input(ckpt, scenes):
    inferencer = MultiLabelInferencer(CONFIGS['mscma'], pretrained=ckpt)
    inferencer.pipeline = lambda data: {}['gt_label']  # a step that fails
    first = sorted(glob.glob(os.path.join(scenes, 'val', '*.png')))[0]
    with pytest.raises(InferenceInputError,
                       match=r"^the test pipeline of \S+scenes-64px\.py "
                       r"failed on \S+000000\.png: KeyError: 'gt_label'$"):
        inferencer(first)
