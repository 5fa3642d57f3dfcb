"""The tools' handling of bad input: one line, or the traceback on demand.

:func:`exit_on_input_error` wraps a tool's ``main``: an
:class:`~mmcma.io.InputError` (a bad file or option) ends the tool with
``error: <message>`` on one line of stderr and exit status 1 instead of a
traceback; ``--debug`` (:func:`add_debug_arg`) or ``MMCMA_DEBUG=1`` shows
the traceback. It lives in layer 0 so that the tools of every layer
(``mmcma.engine.cli``, ``mmcma.apis.cli``) share it, with
:class:`ConfigOptions`, the ``--cfg-options`` parser of every tool.
"""
import argparse
import ast
import functools
import os
import sys
from typing import Any, Callable, Optional, Sequence, Tuple

from mmengine.config import DictAction

from .errors import InputError

#: Environment variable that shows full tracebacks, like ``--debug``.
DEBUG_ENV = 'MMCMA_DEBUG'


def add_debug_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--debug``: a bad file or option shows its full traceback
    instead of one line (:func:`exit_on_input_error`)."""
    parser.add_argument(
        '--debug', action='store_true',
        help='show the full traceback of an error about a file or option '
        f'(by default one line; {DEBUG_ENV}=1 does the same)')


def one_line(error: BaseException) -> str:
    """``error``'s message on one line.

    An error raised in a dataloader worker reaches the main process with
    the worker's traceback in its message (torch's ``ExceptionWrapper``):
    only its last line, the original message, is kept.
    """
    text = str(error)
    if 'Original Traceback' in text:
        last = [line for line in text.splitlines() if line.strip()][-1]
        text = last.split(': ', 1)[1] if ': ' in last else last
    return ' '.join(text.split())


def _debug_requested(argv: Optional[Sequence[str]]) -> bool:
    args = sys.argv[1:] if argv is None else argv
    return '--debug' in args or os.environ.get(DEBUG_ENV, '') == '1'


def exit_on_input_error(main: Optional[Callable] = None, *,
                        also: Tuple[type, ...] = ()) -> Callable:
    """Run ``main(argv=None)``; an :class:`~mmcma.io.InputError` (a bad
    file or option, a checkpoint that does not fit) ends the tool with
    ``error: <message>`` on one line of stderr and exit status 1 instead of
    a traceback, unless ``--debug`` is among the arguments or
    ``MMCMA_DEBUG=1``.

    Used bare (``@exit_on_input_error``) or with ``also``, more exception
    types to report the same way (``@exit_on_input_error(also=(OSError,
    ImportError))`` for a tool whose failures there are the user's
    environment: a missing optional package, an unreadable file).
    """
    if main is None:
        return functools.partial(exit_on_input_error, also=also)
    caught = (InputError, ) + tuple(also)

    @functools.wraps(main)
    def run(*args, **kwargs):
        argv = kwargs.get('argv', args[0] if args else None)
        try:
            return main(*args, **kwargs)
        except caught as e:
            if _debug_requested(argv):
                raise
            sys.exit(f'error: {one_line(e)}')

    return run


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
