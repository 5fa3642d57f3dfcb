"""Helpers of the attention tools: label look-up, the frame plot to a file."""
from typing import Optional, Sequence

import numpy as np

from .figures import frame_attention_figure


def resolve_label(label: str, classes: Sequence[str]) -> int:
    """Index of ``label``, given as a class name or an index."""
    if label in classes:
        return list(classes).index(label)
    if label.lstrip('-').isdigit() and 0 <= int(label) < len(classes):
        return int(label)
    raise ValueError(f'Unknown label {label!r}: give one of the '
                     f'{len(classes)} class names or an index in '
                     f'[0, {len(classes)}).')


def plot_frame_attention(scores: np.ndarray,
                         out_file: str,
                         num_frames: Optional[int] = None,
                         temporal_stride: int = 1,
                         title: str = '') -> None:
    """Write :func:`~mmcma.visualization.frame_attention_figure` as a PNG.
    """
    frame_attention_figure(scores, num_frames, temporal_stride,
                           title).savefig(out_file, format='png')
