"""Exact resume: 4 epochs equal 2 epochs + resume + 2 epochs."""
import pytest
import os

import torch

from mmcma.compat import load_local_checkpoint
from tests.helpers.tool_runner import ROOT, run_tool

CONFIG = os.path.join(ROOT, 'configs', 'demo',
                      'mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')


#: The ``scenes`` fixture's setting (tests/conftest.py).
SCENES = (16, 4, 32, 0)


def options(data_root, *extra):
    # The schedule of a 4-epoch run; batches of 4 so that every epoch has
    # several steps and random flips; validation off (it draws nothing).
    return [
        '--cfg-options', 'train_cfg.max_epochs=4', 'train_cfg.val_interval=9',
        'param_scheduler.end=4',
        'train_dataloader.batch_size=4',
        'default_hooks.checkpoint.max_keep_ckpts=-1',
        'default_hooks.checkpoint.save_best=None',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}', *extra
    ]


def weights(path):
    # Safe loading (allow-list only): resumable checkpoints must pass it.
    return load_local_checkpoint(path, map_location='cpu')['state_dict']


@pytest.mark.slow
def test_resume_ends_with_the_same_weights(scenes, tmp_path):
    full = str(tmp_path / 'full')
    run_tool('tools/train.py', CONFIG, '--work-dir', full, *options(scenes))
    reference = weights(os.path.join(full, 'epoch_4.pth'))
    killed_after_2 = os.path.join(full, 'epoch_2.pth')

    # Resumed in a fresh work dir (no label-state cache there): the
    # checkpoint's label state, schedule, optimiser and random streams.
    resumed = str(tmp_path / 'resumed')
    run_tool('tools/train.py', CONFIG, '--work-dir', resumed, '--resume',
             killed_after_2, *options(scenes))
    got = weights(os.path.join(resumed, 'epoch_4.pth'))
    assert got.keys() == reference.keys()
    for name, value in reference.items():
        assert torch.equal(got[name], value), name

    # Without the saved random streams the flips differ: the test can fail.
    no_rng = str(tmp_path / 'no_rng')
    run_tool('tools/train.py', CONFIG, '--work-dir', no_rng, '--resume',
             killed_after_2,
             *options(scenes, 'default_hooks.random_state.type=IterTimerHook'))
    other = weights(os.path.join(no_rng, 'epoch_4.pth'))
    assert not all(torch.equal(other[k], v) for k, v in reference.items())
