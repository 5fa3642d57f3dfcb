"""A new train_cfg.max_epochs rescales the epoch-based schedule (the learning
rate of every epoch against the schedule worked by hand) or stops with one
sentence naming the scheduler."""
import math
import os
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import PARAM_SCHEDULERS

from mmcma.engine.cli import apply_cfg_options
from mmcma.engine.schedule_length import ScheduleError, rescale_schedule
from tests.helpers.tool_runner import ROOT, run_tool, train_options

DEMO = os.path.join(ROOT, 'configs', 'demo',
                    'linear_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
COCO = os.path.join(ROOT, 'configs', 'cma',
                    'mscma_resnet101_8xb8-60e_coco-448px.py')
KSSNET = os.path.join(ROOT, 'configs', 'kssnet',
                      'kssnet_resnet101_8xb10-100e_coco-448px.py')
VIDEO = os.path.join(ROOT, 'configs', 'video',
                     'cma_snet_1xb256-10e_yt8m-segments.py')
#: The ``scenes`` fixture's setting (tests/conftest.py).
SCENES = (16, 4, 32, 0)


def epoch_lrs(cfg: Config, epochs: int) -> list:
    """The learning rate of each epoch under the config's schedulers, as
    mmengine builds and steps them once per epoch."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=cfg.optim_wrapper.optimizer.lr)
    scheds = cfg.param_scheduler
    scheds = scheds if isinstance(scheds, list) else [scheds]
    built = [PARAM_SCHEDULERS.build(dict(s, optimizer=optimizer))
             for s in scheds]
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]['lr'])
        for sched in built:
            sched.step()
    return lrs


def overridden(path: str, **options) -> Config:
    cfg = Config.fromfile(path)
    apply_cfg_options(cfg, options)
    return cfg


def test_cosine_demo_follows_two_epochs():
    # 3e-3 * (1 + cos(pi e / 2)) / 2: 3e-3 then 1.5e-3 (was 2.99e-3 at
    # epoch 1 with the 24-epoch schedule kept).
    cfg = overridden(DEMO, **{'train_cfg.max_epochs': 2})
    assert cfg.param_scheduler.end == 2
    expected = [3e-3 * (1 + math.cos(math.pi * e / 2)) / 2 for e in (0, 1)]
    assert epoch_lrs(cfg, 2) == pytest.approx(expected)
    assert epoch_lrs(Config.fromfile(DEMO), 2)[1] == pytest.approx(
        3e-3 * (1 + math.cos(math.pi / 24)) / 2)


def test_step_and_multistep_follow_by_the_same_ratio():
    # MS-CMA: x0.1 every 30 of 60 epochs -> every 3 of 6.
    cfg = overridden(COCO, **{'train_cfg.max_epochs': 6})
    assert epoch_lrs(cfg, 6) == pytest.approx([0.01] * 3 + [0.001] * 3)
    # KSSNet: x0.1 at epoch 30 of 100 -> at 3 of 10.
    cfg = overridden(KSSNET, **{'train_cfg.max_epochs': 10})
    assert cfg.param_scheduler.milestones == [3]
    assert epoch_lrs(cfg, 10) == pytest.approx([0.01] * 3 + [0.001] * 7)
    # Longer runs too: 120 epochs decay at 60.
    cfg = overridden(COCO, **{'train_cfg.max_epochs': 120})
    assert (cfg.param_scheduler.step_size, cfg.param_scheduler.end) == (60,
                                                                       120)


def test_warm_up_and_main_schedule_are_both_rescaled():
    cfg = Config(dict(param_scheduler=[
        dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0,
             end=8),
        dict(type='CosineAnnealingLR', by_epoch=True, begin=8, end=40,
             eta_min=1e-4),
    ], optim_wrapper=dict(optimizer=dict(lr=1e-2))))
    lines = rescale_schedule(cfg, 40, 10)
    assert [(s.begin, s.end) for s in cfg.param_scheduler] == [(0, 2),
                                                               (2, 10)]
    assert lines[0] == 'LinearLR (param_scheduler[0]): begin 0 -> 0, end 8 ' \
        '-> 2'
    # Warm-up: 0.1 lr, then lr (mmengine's LinearLR reaches its end factor
    # at end - 1); from epoch 2 cosine from 1e-2 towards 1e-4 over 8 epochs.
    expected = [1e-3, 1e-2] + [1e-4 + (1e-2 - 1e-4) *
                               (1 + math.cos(math.pi * t / 8)) / 2
                               for t in range(8)]
    assert epoch_lrs(cfg, 10) == pytest.approx(expected)


def test_iteration_counts_are_kept_or_refused():
    # The video recipe decays every 7,813 iterations (2e6 samples): kept.
    cfg = overridden(VIDEO, **{'train_cfg.max_epochs': 2})
    assert cfg.param_scheduler.step_size == 7813
    assert 'end' not in cfg.param_scheduler
    cfg = Config(dict(param_scheduler=dict(
        type='CosineAnnealingLR', by_epoch=False, begin=0, end=5000)))
    with pytest.raises(ScheduleError, match=r"CosineAnnealingLR "
                       r"\(param_scheduler\): it counts iterations and sets "
                       r"\['end'\]"):
        rescale_schedule(cfg, 10, 2)


def test_refusals_name_the_scheduler_and_what_works():
    cfg = Config.fromfile(COCO)
    with pytest.raises(SystemExit) as e:
        apply_cfg_options(cfg, {'train_cfg.max_epochs': 5})
    assert str(e.value) == (
        'error: train_cfg.max_epochs=5 (the config has 60) cannot rescale '
        "StepLR (param_scheduler): its epochs {'begin': 0, 'end': 60, "
        "'step_size': 30} would not stay whole numbers (max_epochs must be "
        'a multiple of 2); set its options yourself with --cfg-options '
        'param_scheduler.<option>=... (a schedule set there is kept as it '
        'is)')
    cfg = Config(dict(param_scheduler=[
        dict(type='ConstantLR', by_epoch=True, begin=0, end=4),
        dict(type='ExponentialLR', gamma=0.9, by_epoch=True, begin=4)]))
    with pytest.raises(ScheduleError, match=r'cannot rescale ExponentialLR '
                       r'\(param_scheduler\[1\]\): only schedules made of '
                       'positions'):
        rescale_schedule(cfg, 20, 10)
    assert cfg.param_scheduler[0].end == 4  # nothing half-changed
    with pytest.raises(ScheduleError, match='must be >= 1'):
        rescale_schedule(Config.fromfile(DEMO), 24, 0)


def test_a_schedule_set_on_the_command_line_is_kept():
    # tests/test_engine/test_resume.py: max_epochs=4 with end=4.
    cfg = overridden(DEMO, **{'train_cfg.max_epochs': 4,
                              'param_scheduler.end': 4})
    assert (cfg.param_scheduler.begin, cfg.param_scheduler.end) == (0, 4)
    cfg = overridden(COCO, **{'train_cfg.max_epochs': 5,
                              'param_scheduler.step_size': 2,
                              'param_scheduler.end': 5})
    assert cfg.param_scheduler.step_size == 2
    # The same length, or other options: nothing changes.
    for options in ({'train_cfg.max_epochs': 24}, {'train_cfg.val_interval':
                                                   1}):
        assert overridden(DEMO, **options).param_scheduler == \
            Config.fromfile(DEMO).param_scheduler


@pytest.mark.slow
def test_train_tool_follows_and_refuses(scenes, tmp_path):
    log = run_tool('tools/train.py', DEMO, '--work-dir', str(tmp_path),
                   *train_options(scenes, 2), 'train_cfg.val_interval=9')
    assert 'train_cfg.max_epochs 24 -> 2, the schedule follows' in log
    assert 'Epoch(train) [1][1/2]  lr: 3.0000e-03' in log
    assert 'Epoch(train) [2][1/2]  lr: 1.5000e-03' in log
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', COCO, '--work-dir',
         str(tmp_path / 'coco'), '--cfg-options', 'train_cfg.max_epochs=5'],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith(
        'error: train_cfg.max_epochs=5 (the config has 60) cannot rescale '
        'StepLR (param_scheduler)')
    assert not os.path.exists(tmp_path / 'coco')
