"""Arguments shared by the inference and export tools."""
import argparse
import os

from mmengine.config import DictAction

from ..compat import TRUST_ENV


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
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument(
        '--trust-checkpoint', action='store_true',
        help='unpickle the checkpoint fully (torch.load weights_only=False), '
        f'like {TRUST_ENV}=1: only for files you trust')


def apply_trust(args: argparse.Namespace) -> None:
    """Honour ``--trust-checkpoint`` (the environment switch of
    :mod:`mmcma.compat`)."""
    if args.trust_checkpoint:
        os.environ[TRUST_ENV] = '1'
