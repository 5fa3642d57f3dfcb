"""``--cfg-options`` with dict values (mmengine's DictAction recurses until
Python's limit on them), and the attention tool's one-line errors."""
import argparse
import os
import runpy

import numpy as np
import pytest
from mmengine.config import DictAction

from mmcma.apis import MultiLabelInferencer, init_model
from mmcma.io.cli import ConfigOptions, config_value
from mmcma.datasets.synthetic_scenes import generate
from tests.helpers.demo_models import CONFIGS, random_model, save_checkpoint
from tests.helpers.tool_runner import ROOT

PIPELINE = ("[dict(type='LoadImageFromFile'),dict(type='Resize',"
            "scale=(48,48)),dict(type='PackInputs')]")


def parse(*values):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptions)
    return parser.parse_args(['--cfg-options', *values]).cfg_options


def test_mmengine_recurses_on_dict_values():
    """The failure this action exists for (mmengine 0.10.7)."""
    with pytest.raises(RecursionError):
        DictAction._parse_iterable(PIPELINE)


def test_config_options_read_dicts_and_keep_mmengines_syntax():
    options = parse(f'test_dataloader.dataset.pipeline={PIPELINE}',
                    'a.b=1,2', 'c=[x,(1,2)]', 'd=None', 'e=true',
                    "f={'k': -1.5, 'n': [dict(a=b)]}", 'g.1.scale=(96,96)')
    assert options['test_dataloader.dataset.pipeline'] == [
        dict(type='LoadImageFromFile'), dict(type='Resize', scale=(48, 48)),
        dict(type='PackInputs')]
    # Values without dicts are read as mmengine reads them.
    for key in ('a.b', 'c', 'd', 'e', 'g.1.scale'):
        assert options[key] == DictAction._parse_iterable(
            {'a.b': '1,2', 'c': '[x,(1,2)]', 'd': 'None', 'e': 'true',
             'g.1.scale': '(96,96)'}[key])
    assert options['f'] == {'k': -1.5, 'n': [{'a': 'b'}]}


@pytest.mark.parametrize('value', [
    "dict(type=__import__('os').getcwd())", 'dict(**x)', "{'a': f(1,2)}",
    'dict(a=1', "[dict(a=1), g(2, 3)]"])
def test_config_options_refuse_in_one_line(value, capsys):
    with pytest.raises(SystemExit):
        parse(f'key={value}')
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert '--cfg-options key: cannot read' in message, message


def test_config_value_runs_nothing():
    with pytest.raises(ValueError, match='is not a literal'):
        config_value("dict(a=open('x'))")
    assert config_value("dict(a=(1, -2), b='c')") == {'a': (1, -2), 'b': 'c'}


def test_infer_tool_takes_a_resize_from_the_command_line(tmp_path):
    generate(str(tmp_path / 'data'), 1, 2, 64, seed=0)
    ckpt = save_checkpoint(random_model(CONFIGS['mscma']),
                           str(tmp_path / 'm.pth'))
    tool = runpy.run_path(os.path.join(ROOT, 'tools', 'infer.py'))
    folder = str(tmp_path / 'data' / 'val')
    model = init_model(CONFIGS['mscma'], ckpt, cfg_options=parse(
        f'test_dataloader.dataset.pipeline={PIPELINE}'))
    inferencer = MultiLabelInferencer(model)
    # The model sees 48 px images: C4/C5 maps of 6x6 (stride 8).
    expected = inferencer(folder, return_attention=True)
    assert expected[0]['attention'][0].shape == (12, 6, 6)
    default = tool['main']([CONFIGS['mscma'], ckpt, folder])
    for option in (f'test_dataloader.dataset.pipeline={PIPELINE}',
                   'test_dataloader.dataset.pipeline.1.scale=(48,48)'):
        results = tool['main']([CONFIGS['mscma'], ckpt, folder,
                                '--cfg-options', option])
        for got, want, full in zip(results, expected, default):
            np.testing.assert_allclose(got['pred_scores'],
                                       want['pred_scores'], atol=1e-6)
            assert np.abs(got['pred_scores'] - full['pred_scores']).max() \
                > 1e-4  # 48 px is not the default 64 px


def test_visualize_attention_errors_in_one_line(tmp_path):
    ckpt = save_checkpoint(random_model(CONFIGS['linear']),
                           str(tmp_path / 'linear.pth'))
    tool = runpy.run_path(os.path.join(ROOT, 'tools',
                                       'visualize_attention.py'))
    generate(str(tmp_path / 'data'), 1, 1, 64, seed=0)
    image = str(tmp_path / 'data' / 'val' / '000000.png')
    with pytest.raises(SystemExit, match=r'^error: \S+ shows no attention'):
        tool['main']([CONFIGS['linear'], ckpt, image, '--out',
                      str(tmp_path / 'a.png')])
    with pytest.raises(SystemExit, match='^error: image not found'):
        tool['main']([CONFIGS['linear'], ckpt, str(tmp_path / 'no.png'),
                      '--out', str(tmp_path / 'a.png')])
    mscma = save_checkpoint(random_model(CONFIGS['mscma']),
                            str(tmp_path / 'mscma.pth'))
    with pytest.raises(SystemExit, match="^error: --labels: Unknown label "
                       "'zebra'"):
        tool['main']([CONFIGS['mscma'], mscma, image, '--out',
                      str(tmp_path / 'a.png'), '--labels', 'zebra'])
    tool['main']([CONFIGS['mscma'], mscma, image, '--out',
                  str(tmp_path / 'a.png'), '--labels', 'boat', '3'])
    assert (tmp_path / 'a.png').read_bytes()[:4] == b'\x89PNG'


def test_train_and_test_tools_read_dict_values():
    """tools/train.py and tools/test.py parse ``dict(...)`` option values
    (mmengine's parser recursed until RecursionError on them)."""
    import argparse

    from mmcma.engine.cli import add_common_args
    parser = argparse.ArgumentParser()
    add_common_args(parser)
    args = parser.parse_args([
        '--cfg-options',
        "test_dataloader.dataset.pipeline.1=dict(type='Resize',scale=(96,96))",
        'train_cfg.max_epochs=2'
    ])
    assert args.cfg_options == {
        'test_dataloader.dataset.pipeline.1':
        dict(type='Resize', scale=(96, 96)),
        'train_cfg.max_epochs': 2
    }
