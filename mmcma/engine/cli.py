"""Command-line plumbing shared by the tools.

Every tool wraps its ``main`` in :func:`~mmcma.io.cli.exit_on_input_error`
(re-exported here): a bad file or option (:class:`~mmcma.io.InputError`,
which includes :class:`~mmcma.compat.CheckpointError`) ends the tool with
one line on stderr and exit status 1; ``--debug``
(:func:`~mmcma.io.cli.add_debug_arg`, part of :func:`add_common_args`) or
``MMCMA_DEBUG=1`` shows the full traceback.
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
from datetime import timedelta
from typing import Dict, Mapping

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import MODEL_WRAPPERS
from mmengine.runner import Runner
from torch.nn.parallel import DistributedDataParallel

from mmcma.compat import TRUST_ENV, CheckpointError
from mmcma.io import InputError, MissingFileError
from mmcma.io.cli import (DEBUG_ENV, ConfigOptions,  # noqa: F401 (exported)
                          add_debug_arg, exit_on_input_error, one_line)

from .pipeline_check import check_pipelines
from .schedule_length import ScheduleError, rescale_schedule
from .tool_options import disable_dataloader_options


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Add the flags both tools take (MMPretrain's spelling)."""
    parser.add_argument('--work-dir', help='folder for logs and checkpoints')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=ConfigOptions,
        help='override config keys, e.g. train_cfg.max_epochs=2 '
        'optim_wrapper.optimizer.lr=0.1 (no spaces inside a value); values '
        "may be lists, tuples and dicts, e.g. key=\"dict(type='Resize',"
        "scale=(96,96))\"")
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (dist_train.sh / dist_test.sh use pytorch)')
    parser.add_argument(
        '--amp', action='store_true',
        help='automatic mixed precision (needs a CUDA GPU)')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='unpickle checkpoints fully (torch.load weights_only=False), '
        f'like {TRUST_ENV}=1: only for files you trust, since unpickling '
        'can run code')
    parser.add_argument(
        '--no-pin-memory', action='store_true',
        help='set pin_memory=False in the dataloaders')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_arg(parser)


def add_non_strict_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--non-strict``: load a checkpoint that does not fit the model
    (:class:`StrictLoadRunner` is the default)."""
    parser.add_argument(
        '--non-strict', action='store_true',
        help='load a checkpoint that does not fit the config: tensors with '
        'no match keep their initial values (by default that is an error '
        'naming the missing, unexpected and mis-shaped tensors)')


def parse_cli_args(parser: argparse.ArgumentParser,
                   argv=None) -> argparse.Namespace:
    """Parse ``argv`` and reject combinations this machine cannot run."""
    args = parser.parse_args(argv)
    if args.amp and not torch.cuda.is_available():
        # mmengine's AmpOptimWrapper asserts a GPU (or NPU/MLU/MUSA); its
        # fp16 test loop would silently fall back to slow bfloat16 on the CPU.
        parser.error('--amp (mixed precision) needs a CUDA GPU and none is '
                     'available: run without --amp')
    return args


def load_config(args: argparse.Namespace) -> Config:
    """Read the config and apply the common flags.

    Sets ``LOCAL_RANK`` for launchers that pass ``--local-rank``, fits the
    schedule to a ``train_cfg.max_epochs`` given in ``--cfg-options``
    (:func:`apply_cfg_options`), picks a work
    dir (``work_dirs/<config name>`` unless given), makes every dataloader
    consistent (``persistent_workers`` only with ``num_workers > 0``: mmengine
    raises otherwise), checks every pipeline step's options by name
    (:func:`~mmcma.engine.pipeline_check.check_pipelines`) and prepares
    distributed runs without a GPU
    (:func:`setup_cpu_distributed`).
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if args.trust_checkpoint:
        os.environ[TRUST_ENV] = '1'
    if not osp.isfile(args.config):
        raise MissingFileError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        apply_cfg_options(cfg, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join(
            'work_dirs', osp.splitext(osp.basename(args.config))[0])
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if loader is None:
            continue
        if loader.get('num_workers', 0) == 0:
            loader['persistent_workers'] = False
    disable_dataloader_options(
        cfg, pin_memory=args.no_pin_memory,
        persistent_workers=getattr(args, 'no_persistent_workers', False))
    check_pipelines(cfg)
    setup_cpu_distributed(cfg)
    return cfg


def apply_cfg_options(cfg: Config, options: dict) -> None:
    """Merge ``--cfg-options`` into ``cfg``; a new ``train_cfg.max_epochs``
    rescales the epoch-based schedule or stops
    (:mod:`mmcma.engine.schedule_length`), unless the options also set
    ``param_scheduler`` (then the schedule is the user's).

    Raises:
        SystemExit: The schedule cannot follow the new length (one line).
    """
    old = (cfg.get('train_cfg') or {}).get('max_epochs')
    cfg.merge_from_dict(options)
    new = (cfg.get('train_cfg') or {}).get('max_epochs')
    if old is None or new is None or new == old or any(
            key.split('.')[0] == 'param_scheduler' for key in options):
        return
    try:
        lines = rescale_schedule(cfg, old, new)
    except ScheduleError as e:
        sys.exit(f'error: {e}')
    if lines:
        print_log(f'train_cfg.max_epochs {old} -> {new}, the schedule '
                  'follows (docs/usage.md, "Shorter runs"): ' + '; '.join(lines),
                  logger='current')


def slurm_environment(environ: Mapping[str, str]) -> Dict[str, str]:
    """torch.distributed's ``env://`` variables from Slurm's, as mmengine's
    ``slurm`` launcher derives them.

    ``RANK`` = ``SLURM_PROCID``, ``WORLD_SIZE`` = ``SLURM_NTASKS``,
    ``LOCAL_RANK`` = ``SLURM_LOCALID`` (else the rank), ``MASTER_ADDR`` as
    given, else the first host of ``SLURM_NODELIST`` (``scontrol show
    hostname``), ``MASTER_PORT`` as given, else 29500.

    Raises:
        RuntimeError: A Slurm variable is missing (not started by ``srun``).
    """
    missing = [key for key in ('SLURM_PROCID', 'SLURM_NTASKS',
                               'SLURM_NODELIST') if key not in environ]
    if missing:
        raise RuntimeError(
            f'--launcher slurm needs {", ".join(missing)}: start the tool '
            'with srun (tools/slurm_train.sh, tools/slurm_test.sh)')
    addr = environ.get('MASTER_ADDR') or subprocess.run(
        ['scontrol', 'show', 'hostname', environ['SLURM_NODELIST']],
        capture_output=True, text=True, check=True).stdout.split()[0]
    return dict(RANK=environ['SLURM_PROCID'],
                WORLD_SIZE=environ['SLURM_NTASKS'],
                LOCAL_RANK=environ.get('SLURM_LOCALID',
                                       environ['SLURM_PROCID']),
                MASTER_ADDR=addr,
                MASTER_PORT=environ.get('MASTER_PORT', '29500'))


def setup_cpu_distributed(cfg: Config) -> None:
    """Let the ``pytorch`` and ``slurm`` launchers run without a GPU.

    mmengine 0.10.7 cannot do it alone: its ``init_dist`` calls
    ``torch.cuda.set_device(LOCAL_RANK)`` before creating the process group
    (an error without CUDA), and its Runner wraps the model in DDP with
    ``device_ids=[LOCAL_RANK]``, a CUDA device. So without a GPU this creates
    the gloo process group itself from torchrun's environment (or Slurm's,
    :func:`slurm_environment`; the Runner then skips ``init_dist``) and asks
    for a CPU DDP (``device_ids=None``; buffers not broadcast, as mmengine's
    default wrapper does on GPUs).
    """
    if cfg.launcher not in ('pytorch', 'slurm') or torch.cuda.is_available():
        return
    if cfg.launcher == 'slurm':
        os.environ.update(slurm_environment(os.environ))
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(
            backend='gloo',
            timeout=timedelta(seconds=dist_cfg.get('timeout', 1800)))
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    if issubclass(MODEL_WRAPPERS.get(wrapper['type']),
                  DistributedDataParallel):
        wrapper.setdefault('device_ids', None)
    cfg.model_wrapper_cfg = wrapper


class StrictLoadRunner(Runner):
    """A Runner whose checkpoint must fit the model exactly.

    mmengine's Runner loads ``load_from`` with ``strict=False``: missing and
    unexpected keys and tensors of another shape only log a warning, and the
    model is evaluated with those tensors left at their initial values. Here
    they are a :class:`~mmcma.compat.CheckpointError` that names them.
    """

    def resume(self, filename: str, *args, **kwargs) -> None:
        """mmengine's resume, with the model loaded strictly
        (:meth:`load_checkpoint`) and a checkpoint that lacks what resuming
        needs (``meta``, the optimizer's state for its parameters) refused
        in one sentence instead of a ``KeyError`` deep in mmengine."""
        try:
            return super().resume(filename, *args, **kwargs)
        except InputError:
            raise
        except (KeyError, ValueError) as e:
            raise CheckpointError(
                f'checkpoint {filename} cannot be resumed from with this '
                f'config ({type(e).__name__}: {e}); resume only from a '
                'checkpoint tools/train.py wrote for the same model and '
                'optimizer, or start from its weights with --load-from') \
                from e

    def load_checkpoint(self, filename: str, map_location='cpu',
                        strict: bool = True,
                        revise_keys=((r'^module.', ''), )):
        try:
            return super().load_checkpoint(filename, map_location, strict,
                                           revise_keys)
        except RuntimeError as e:
            if 'do not match exactly' not in str(e):
                raise
            raise CheckpointError(
                f'checkpoint {filename} does not fit the config: '
                f'{_summarize_mismatch(str(e))} (--non-strict loads only the '
                'matching tensors)') from None


def _summarize_mismatch(message: str, most: int = 5) -> str:
    """mmengine's strict-loading error on one line, long lists cut short.

    Its lines are ``size mismatch for KEY: ...`` (one per tensor),
    ``unexpected key in source state_dict: K1, K2, ...`` and ``missing keys
    in source state_dict: K1, K2, ...``.
    """
    lines = [line.strip().rstrip('.') for line in message.splitlines()[1:]
             if line.strip()]
    sizes = [line for line in lines if line.startswith('size mismatch')]
    parts = sizes[:most]
    if len(sizes) > most:
        parts.append(f'{len(sizes) - most} more size mismatches')
    for line in lines:
        if line in sizes:
            continue
        head, keys = line.split(': ', 1)
        keys = keys.split(', ')
        more = f', ... ({len(keys) - most} more)' if len(keys) > most else ''
        parts.append(f"{head}: {', '.join(keys[:most])}{more}")
    return '; '.join(parts)


#: The former name (``CheckpointError`` is an ``InputError``).
exit_on_checkpoint_error = exit_on_input_error
