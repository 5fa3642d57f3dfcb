"""Arguments and error handling shared by the inference and export tools."""
import argparse
import ast
import os
from typing import Any, Callable

from mmengine.config import DictAction

from ..compat import TRUST_ENV
from ..io.cli import add_debug_arg, exit_on_input_error
from .errors import USER_ERRORS


def config_value(text: str) -> Any:
    """A ``--cfg-options`` value that holds ``dict(...)`` or ``{...}``.

    mmengine's ``DictAction`` reads numbers, strings, lists and tuples
    only: an element such as ``dict(type='Resize',scale=(64,64))`` holds a
    comma inside parentheses that do not open the element, and its parser
    then calls itself on the same text until Python's recursion limit. The
    value is read here as a Python expression made of literals, lists,
    tuples, ``{...}`` and ``dict(key=value)`` calls only (no other call or
    name runs); a bare name is a string, as mmengine reads it.

    Raises:
        ValueError: Anything else.
    """
    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [value(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Dict) and None not in node.keys:
            return {value(k): value(v) for k, v in zip(node.keys, node.values)}
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == 'dict' and not node.args
                and all(k.arg for k in node.keywords)):
            return {k.arg: value(k.value) for k in node.keywords}
        if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
                and isinstance(node.operand, ast.Constant)):
            return -node.operand.value
        raise ValueError(f'{ast.unparse(node)} is not a literal, list, '
                         'tuple or dict')

    return value(ast.parse(text.strip(), mode='eval').body)


class ConfigOptions(DictAction):
    """mmengine's ``DictAction`` that also reads ``dict(...)`` values
    (:func:`config_value`) and reports an unreadable value in one line."""

    def __call__(self, parser, namespace, values, option_string=None):
        options = dict(getattr(namespace, self.dest, None) or {})
        for item in values or []:
            key, sep, text = item.partition('=')
            if not sep or not key:
                parser.error(f'{option_string} takes key=value pairs, got '
                             f'{item!r}')
            try:
                options[key] = (config_value(text)
                                if 'dict(' in text or '{' in text else
                                self._parse_iterable(text))
            except (ValueError, SyntaxError, RecursionError) as e:
                parser.error(f'{option_string} {key}: cannot read {text!r} '
                             f'({type(e).__name__}: {e})')
        setattr(namespace, self.dest, options)


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
