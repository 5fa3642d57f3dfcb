"""Arguments and error handling shared by the inference and export tools."""
import argparse
import os
from typing import Callable

from ..compat import TRUST_ENV
from ..io.cli import ConfigOptions, add_debug_arg, exit_on_input_error
from .errors import USER_ERRORS


def add_model_args(parser: argparse.ArgumentParser, rule: str) -> None:
    """CONFIG, CHECKPOINT, ``--thr | --topk``, ``--cfg-options`` and
    ``--trust-checkpoint`` (as tools/test.py; see :func:`apply_trust`).

    Args:
        parser (ArgumentParser): The tool's parser.
        rule (str): What the label rule is for, ending the help texts.
    """
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--thr', type=float,
                       help=f'labels with score >= THR {rule} (default: the '
                       "head's rule, thr 0.5 unless the config sets topk)")
    group.add_argument('--topk', type=int, help=f'the K best labels {rule}')
    add_config_options(parser)
    parser.add_argument(
        '--trust-checkpoint', action='store_true',
        help='unpickle the checkpoint fully (torch.load weights_only=False), '
        f'like {TRUST_ENV}=1: only for files you trust')


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options key=value ...`` (:class:`ConfigOptions`), and
    ``--debug`` (:func:`~mmcma.io.cli.add_debug_arg`)."""
    add_debug_arg(parser)
    parser.add_argument(
        '--cfg-options', nargs='+', action=ConfigOptions,
        help="override config settings, key=value; values may be lists, "
        "tuples and dicts, e.g. test_dataloader.dataset.pipeline.1.scale="
        "'(96,96)' or key=\"dict(type='Resize',scale=(96,96))\"")


def apply_trust(args: argparse.Namespace) -> None:
    """Honour ``--trust-checkpoint`` (the environment switch of
    :mod:`mmcma.compat`)."""
    if args.trust_checkpoint:
        os.environ[TRUST_ENV] = '1'


def exit_on_user_error(main: Callable) -> Callable:
    """Run ``main``; a bad file, option, config or checkpoint (any
    :class:`~mmcma.io.InputError`, ``CheckpointError`` among them, and
    :data:`~mmcma.apis.errors.USER_ERRORS`) ends the tool with its
    one-sentence message on stderr (``error: ...``, exit status 1) instead
    of a traceback; ``--debug`` or ``MMCMA_DEBUG=1`` shows the traceback
    (:func:`mmcma.io.cli.exit_on_input_error`)."""
    return exit_on_input_error(main, also=USER_ERRORS)
