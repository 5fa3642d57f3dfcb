"""The tools' handling of bad input: one line, or the traceback on demand.

:func:`exit_on_input_error` wraps a tool's ``main``: an
:class:`~mmcma.io.InputError` (a bad file or option) ends the tool with
``error: <message>`` on one line of stderr and exit status 1 instead of a
traceback; ``--debug`` (:func:`add_debug_arg`) or ``MMCMA_DEBUG=1`` shows
the traceback. It lives in layer 0 so that the tools of every layer
(``mmcma.engine.cli``, ``mmcma.apis.cli``) share it.
"""
import argparse
import functools
import os
import sys
from typing import Callable, Optional, Sequence, Tuple

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
