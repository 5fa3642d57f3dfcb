"""Arguments shared by the inference and export tools."""
import argparse

from mmengine.config import DictAction


def add_model_args(parser: argparse.ArgumentParser, rule: str) -> None:
    """CONFIG, CHECKPOINT, ``--thr | --topk`` and ``--cfg-options``.

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
