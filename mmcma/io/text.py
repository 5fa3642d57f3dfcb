"""Text files read line by line with a bound on each line.

``for line in file`` reads a line whole, however long: a file without a
newline (a binary file, a damaged or crafted ``.gz``) would be read into
memory in one piece. :func:`bounded_lines` refuses a line over a limit.
"""
from typing import IO, Iterator

from .errors import InputFileError


def bounded_lines(stream: IO[str], path: str, max_chars: int,
                  expected: str) -> Iterator[str]:
    """The lines of ``stream``; one over ``max_chars`` characters is an
    :class:`InputFileError` naming ``path`` and what a line should be
    (``expected``)."""
    while True:
        line = stream.readline(max_chars + 1)
        if not line:
            return
        if len(line) > max_chars:
            raise InputFileError(
                f'{path}: a line longer than {max_chars:,} characters; '
                f'expected {expected}')
        yield line
