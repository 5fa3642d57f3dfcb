"""Plots of attention: over an image's positions and over a video's frames."""
import warnings
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from matplotlib.figure import Figure
from mmengine.visualization import Visualizer


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
    """Write a bar chart of attention scores over frames as a PNG.

    Our own plot: ``Visualizer.draw_featmap`` paints 2-D maps over images;
    attention over time reads best as bars over a frame axis.

    Args:
        scores (np.ndarray): Attention of the valid steps, shape (T',).
        out_file (str): Output PNG path.
        num_frames (int, optional): Frames of the video; the last step is
            cut at it. Defaults to ``T' * temporal_stride``.
        temporal_stride (int): Frames per attention step. Defaults to 1.
        title (str): Figure title.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or len(scores) == 0:
        raise ValueError(f'Expected a non-empty 1-D score array, got shape '
                         f'{scores.shape}.')
    if not np.isfinite(scores).all():
        raise ValueError('Attention scores contain NaN or inf.')
    if num_frames is None:
        num_frames = len(scores) * temporal_stride
    starts = np.arange(len(scores)) * temporal_stride
    if starts[-1] >= num_frames:
        raise ValueError(f'{len(scores)} steps of {temporal_stride} frames '
                         f'do not fit {num_frames} frames.')
    widths = np.minimum(starts + temporal_stride, num_frames) - starts
    fig = Figure(figsize=(8, 3), dpi=100)
    ax = fig.add_subplot()
    ax.bar(starts, scores, width=widths, align='edge', edgecolor='white')
    ax.set_xlim(0, num_frames)
    ax.set_xlabel('Frame (second)')
    ax.set_ylabel('Attention score')
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out_file, format='png')


def overlay_attention(image: np.ndarray, attention: np.ndarray,
                      alpha: float = 0.5) -> np.ndarray:
    """Blend an attention map, up-sampled to the image, over the image.

    mmengine's ``Visualizer.draw_featmap`` does the drawing: it up-samples the
    map bilinearly to the image, scales it min..max onto OpenCV's jet colour
    map (so colours show where a label looks relative to the rest of its
    map; a uniform map is all blue) and blends it with the image.

    Args:
        image (np.ndarray): RGB image (H, W, 3) uint8.
        attention (np.ndarray): Attention (h, w).
        alpha (float): Weight of the heat map. Defaults to 0.5.

    Returns:
        np.ndarray: RGB image (H, W, 3) uint8.
    """
    attention = np.asarray(attention, dtype=np.float32)
    if attention.ndim != 2 or not np.isfinite(attention).all():
        raise ValueError('attention must be a finite 2-D map, got shape '
                         f'{attention.shape}')
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError('image must be an RGB uint8 array (H, W, 3), got '
                         f'{image.dtype} {image.shape}')
    with warnings.catch_warnings():
        # draw_featmap warns whenever it resizes the map; here that is the
        # point.
        warnings.filterwarnings(
            'ignore', message='Since the spatial dimensions')
        return Visualizer.draw_featmap(
            torch.from_numpy(attention)[None],
            np.ascontiguousarray(image),
            channel_reduction=None,
            topk=0,
            alpha=alpha)


def plot_image_attention(image: np.ndarray,
                         panels: Sequence[Tuple[str, np.ndarray]],
                         out_file: str,
                         title: str = '') -> None:
    """Write the image and one attention overlay per panel as a PNG.

    Each overlay is :func:`overlay_attention`'s. The grid is our own
    figure: ``draw_featmap``'s grid (``topk > 0``) orders the channels by
    their sums, captions them ``channel: i``, has no input panel or title
    and draws on pyplot's global state.

    Args:
        image (np.ndarray): RGB image (H, W, 3) uint8.
        panels (Sequence[tuple]): ``(caption, attention (h, w))`` pairs.
        out_file (str): Output PNG path.
        title (str): Figure title.
    """
    cols = len(panels) + 1
    fig = Figure(figsize=(2.4 * cols, 2.9), dpi=100)
    axes = fig.subplots(1, cols, squeeze=False)[0]
    axes[0].imshow(image)
    axes[0].set_title('input', fontsize=8)
    for ax, (caption, attention) in zip(axes[1:], panels):
        ax.imshow(overlay_attention(image, attention))
        ax.set_title(caption, fontsize=8)
    for ax in axes:
        ax.axis('off')
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out_file, format='png')
