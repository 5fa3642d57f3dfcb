"""Keep the learning-rate schedule right when ``train_cfg.max_epochs`` changes.

mmengine takes ``--cfg-options train_cfg.max_epochs=2`` as it is: a 24-epoch
cosine schedule then stops after 2 epochs at 99 % of its learning rate. The
tools (:func:`mmcma.engine.cli.load_config`) call :func:`rescale_schedule`
instead, with this rule:

- **epoch-based schedulers** (``by_epoch=True``, mmengine's default): every
  position counted in epochs (``begin``, ``end``, ``T_max``, ``milestones``,
  ``step_size``, ``periods``) is multiplied by ``new / old`` epochs, warm-ups
  included, so the shorter (or longer) run goes through the same schedule.
  A value that would not be a whole number of epochs is refused, naming the
  scheduler and the multiple of epochs that works;
- **iteration-based schedulers** (``by_epoch=False``) count iterations, i.e.
  samples seen, not a fraction of the run: one that runs to the end of
  training and has no length (a ``StepLR`` decaying every N iterations, the
  video recipe's) stays as it is; one with an ``end``, ``T_max``,
  ``milestones`` or ``periods`` is refused (whether that count was the run's
  length cannot be told from the config);
- other kinds (``ExponentialLR``, ``OneCycleLR``, ``ReduceOnPlateauLR``, ...)
  are refused: their decay is per epoch or per step, not a position;
- when the same command also sets ``param_scheduler`` options, the schedule
  is the user's and nothing is changed (``load_config`` decides that).
"""
import copy
import math
from fractions import Fraction
from functools import reduce
from typing import List, Sequence

from mmengine.config import Config

from mmcma.io import InputOptionError

#: mmengine's "until the end of training" (``mmengine.optim.scheduler``).
_INF = 2**63 - 1
#: Scheduler families (type name without ``LR`` / ``Momentum`` /
#: ``ParamScheduler`` / ``WeightDecay``) whose every epoch-valued option is
#: a position, and those options besides ``begin`` and ``end``.
POSITION_FIELDS = {
    'Step': ('step_size', ),
    'MultiStep': ('milestones', ),
    'CosineAnnealing': ('T_max', ),
    'CosineRestart': ('periods', ),
    'Linear': (),
    'Constant': (),
    'Poly': (),
}
_SUFFIXES = ('ParamScheduler', 'WeightDecay', 'Momentum', 'LR')


class ScheduleError(InputOptionError):
    """A schedule that cannot follow a new ``train_cfg.max_epochs`` (an
    :class:`~mmcma.io.InputOptionError`, so a ``ValueError``)."""


def scheduler_family(type_name: str) -> str:
    """``'CosineAnnealingLR'`` -> ``'CosineAnnealing'`` (the family)."""
    for suffix in _SUFFIXES:
        if type_name.endswith(suffix):
            return type_name[:-len(suffix)]
    return type_name


def _whole_multiple(values: Sequence[int], old: int) -> int:
    """The smallest epoch count n for which ``v * n / old`` is whole for
    every (whole) v: ``lcm(old / gcd(old, v))``."""
    return reduce(math.lcm, (old // math.gcd(old, int(v)) for v in values),
                  1)


def _positions(sched: dict) -> dict:
    """The scheduler's set positions: ``{field: int or list of int}``."""
    fields = ('begin', 'end',
              *POSITION_FIELDS.get(scheduler_family(sched['type']), ()))
    return {f: sched[f] for f in fields
            if sched.get(f) is not None and sched[f] != _INF}


def _name(sched: dict, index: int, count: int) -> str:
    where = f'param_scheduler[{index}]' if count > 1 else 'param_scheduler'
    return f"{sched['type']} ({where})"


def _refuse(name: str, why: str, old: int, new: int) -> ScheduleError:
    return ScheduleError(
        f'train_cfg.max_epochs={new} (the config has {old}) cannot rescale '
        f'{name}: {why}; set its options yourself with --cfg-options '
        'param_scheduler.<option>=... (a schedule set there is kept as it is)')


def _rescale_one(sched: dict, name: str, old: int, new: int) -> str:
    """Rescale one epoch-based scheduler in place; describe the change."""
    positions = _positions(sched)
    flat = [v for value in positions.values()
            for v in (value if isinstance(value, (list, tuple)) else [value])]
    ratio = Fraction(new, old)
    if any((Fraction(v) * ratio).denominator != 1 for v in flat):
        raise _refuse(
            name, f'its epochs {positions} would not stay whole numbers '
            f'(max_epochs must be a multiple of {_whole_multiple(flat, old)})',
            old, new)
    changes = []
    for field, value in positions.items():
        if isinstance(value, (list, tuple)):
            scaled = [int(Fraction(v) * ratio) for v in value]
        else:
            scaled = int(Fraction(value) * ratio)
        sched[field] = scaled
        changes.append(f'{field} {value} -> {scaled}')
    return f"{name}: {', '.join(changes) or 'no epoch positions'}"


def rescale_schedule(cfg: Config, old: int, new: int) -> List[str]:
    """Fit ``cfg.param_scheduler`` to ``new`` epochs instead of ``old``.

    Args:
        cfg (Config): The config; its ``param_scheduler`` is replaced when
            every scheduler can follow, else left as it was.
        old (int): The config's own ``train_cfg.max_epochs``.
        new (int): The overriding value.

    Returns:
        list[str]: One line per scheduler that changed or was kept.

    Raises:
        ScheduleError: A scheduler cannot follow the new length safely
            (the message names it and what to set).
    """
    if new < 1:
        raise ScheduleError(f'train_cfg.max_epochs must be >= 1, got {new}')
    scheds = cfg.get('param_scheduler') or []
    single = not isinstance(scheds, (list, tuple))
    scheds = copy.deepcopy([scheds] if single else list(scheds))
    if old == new or not scheds:
        return []
    lines = []
    for index, sched in enumerate(scheds):
        name = _name(sched, index, len(scheds))
        if scheduler_family(sched['type']) not in POSITION_FIELDS:
            raise _refuse(name, 'only schedules made of positions (StepLR, '
                          'MultiStepLR, CosineAnnealingLR, CosineRestartLR, '
                          'LinearLR, ConstantLR, PolyLR and their momentum '
                          'variants) can be rescaled', old, new)
        if sched.get('by_epoch', True):
            lines.append(_rescale_one(sched, name, old, new))
            continue
        counted = set(_positions(sched)) - {'begin', 'step_size'}
        if counted:
            raise _refuse(
                name, f'it counts iterations and sets {sorted(counted)}, '
                'which do not follow epochs', old, new)
        lines.append(f'{name}: counts iterations to the end of training, '
                     'kept')
    cfg.param_scheduler = scheds[0] if single else scheds
    return lines
