"""A progress bar for terminals that stays out of pipes and files."""
import sys
from typing import Iterable, Iterator, Optional, TextIO, TypeVar

from rich.console import Console
from rich.progress import (BarColumn, Progress, TaskProgressColumn,
                           TextColumn, TimeRemainingColumn)

T = TypeVar('T')


def track(sequence: Iterable[T],
          total: Optional[int] = None,
          description: str = 'Inference',
          stream: Optional[TextIO] = None) -> Iterator[T]:
    """Yield from ``sequence`` with a rich progress bar on ``stream``.

    mmpretrain's ``track`` draws on standard output with a rich ``Live``
    display that it shares across calls; piped, it leaves the last frame
    without a newline, so the tool's next printed line starts on the bar's
    line. Here the bar goes to ``stream`` (standard error by default), only
    when that is a terminal, and ends its line when done.
    """
    stream = sys.stderr if stream is None else stream
    if not stream.isatty():
        yield from sequence
        return
    columns = (TextColumn(description), BarColumn(),
               TaskProgressColumn(show_speed=True), TimeRemainingColumn())
    with Progress(*columns, console=Console(file=stream,
                                            force_terminal=True)) as bar:
        yield from bar.track(sequence, total=total)
