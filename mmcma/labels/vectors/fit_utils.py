"""What the label-vector fits share: a progress bar and a thread limit."""
from contextlib import contextmanager
from typing import Iterator, Optional

import torch
from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                           TextColumn, TimeElapsedColumn)


def progress_bar(title: str, enabled: bool) -> Progress:
    """A rich progress bar titled ``title`` showing the current mean loss
    (a task field ``loss``)."""
    return Progress(
        TextColumn(f'[bold]{title}'),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn('loss {task.fields[loss]:.3e}'),
        TimeElapsedColumn(),
        disable=not enabled)


@contextmanager
def torch_threads(num_threads: Optional[int]) -> Iterator[None]:
    """Temporarily set PyTorch's intra-op thread count (None: unchanged)."""
    previous = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
