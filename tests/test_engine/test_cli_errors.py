"""Bad files and options end every tool in one line (``--debug``: the
traceback)."""
import os
import subprocess
import sys

import pytest

from mmcma.engine.cli import exit_on_input_error, one_line
from mmcma.io import InputFileError, InputOptionError
from tests.helpers.tool_runner import ROOT, tool, tool_env, tool_error

CMA = os.path.join(
    ROOT, 'configs/demo/cma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')

BAD_STEP = ['--cfg-options', 'train_dataloader.dataset.pipeline.1.probb=0.5']


def test_bad_pipeline_option_is_one_line(tmp_path):
    message = tool_error('train', CMA, '--work-dir', str(tmp_path),
                         *BAD_STEP)
    assert message.startswith('error: train_dataloader.dataset.pipeline[1] '
                              "(RandomFlip): unknown option 'probb'; valid "
                              'options: ')
    message = tool_error('test', CMA, 'x.pth', '--work-dir', str(tmp_path))
    assert message == 'error: checkpoint not found: x.pth'
    message = tool_error('train', 'nope.py')
    assert message == 'error: config file not found: nope.py'


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    with pytest.raises(InputOptionError, match='probb'):
        tool('train')([CMA, '--work-dir', str(tmp_path), '--debug',
                       *BAD_STEP])
    monkeypatch.setenv('MMCMA_DEBUG', '1')
    with pytest.raises(InputOptionError, match='probb'):
        tool('train')([CMA, '--work-dir', str(tmp_path), *BAD_STEP])


def test_only_input_errors_are_shortened():
    @exit_on_input_error
    def main(argv=None):
        raise KeyError('a bug, not the input')

    with pytest.raises(KeyError):
        main([])

    @exit_on_input_error(also=(OSError, ))
    def main_os(argv=None):
        raise PermissionError('cannot write out.npz')

    with pytest.raises(SystemExit, match='^error: cannot write out.npz$'):
        main_os([])


def test_one_line_of_an_error_from_a_dataloader_worker():
    # torch re-raises a worker's exception with the worker's traceback in
    # the message: only the original message is kept.
    wrapped = InputFileError(
        'Caught InputFileError in DataLoader worker process 0.\n'
        'Original Traceback (most recent call last):\n'
        '  File "x.py", line 1, in f\n'
        'mmcma.io.errors.InputFileError: ann.json: annotation 9: bad\n')
    assert one_line(wrapped) == 'ann.json: annotation 9: bad'
    assert one_line(ValueError('a\n  b')) == 'a b'


@pytest.mark.slow
def test_subprocess_prints_one_line_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', CMA, '--work-dir', str(tmp_path),
         *BAD_STEP], cwd=ROOT, env=tool_env(), capture_output=True,
        text=True, timeout=600)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        'error: train_dataloader.dataset.pipeline[1] (RandomFlip)')
