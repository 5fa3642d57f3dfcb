"""Figures of predictions: attention grids, label scores, frame attention.

Plain functions that return a matplotlib ``Figure`` (no pyplot, no global
state); :func:`figure_to_rgb` turns one into the RGB array that mmengine's
``Visualizer.add_image`` sends to its backends
(:class:`~mmcma.visualization.AttentionVisualizer`).

Attention maps are drawn as *relative attention* ``a * M``: the attention a
label pays to a position, divided by what a uniform attention over the ``M``
positions of its map would pay (1 = uniform, 4 = four times as much). Maps of
different sizes (the scales of MS-CMA, 28x28 next to 7x7) are then on one
scale and share one colour bar. ``Visualizer.draw_featmap`` (the overlay of
mmengine) scales each map min..max on its own, which makes colours of two
panels incomparable and a colour bar meaningless; hence the grid is drawn
here.
"""
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

#: Colour map of the attention overlays.
ATTENTION_CMAP = 'turbo'
#: Weight of the colour overlay over the image.
OVERLAY_ALPHA = 0.5
#: Label panels per row before the grid wraps (averaged scales).
MAX_COLUMNS = 5


def check_image(image: np.ndarray) -> np.ndarray:
    """Return ``image`` if it is an RGB uint8 array (H, W, 3), else raise."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError('image must be an RGB uint8 array (H, W, 3), got '
                         f'{image.dtype} {image.shape}')
    return image


def relative_attention(attention: np.ndarray,
                       size: Sequence[int]) -> np.ndarray:
    """Attention maps as multiples of uniform, up-sampled bilinearly.

    Args:
        attention (np.ndarray): Maps (L, h, w), each summing to 1 (or 0).
        size (Sequence[int]): Output (H, W).

    Returns:
        np.ndarray: (L, H, W) float32, ``a * h * w`` up-sampled as
        ``Visualizer.draw_featmap`` does (bilinear, ``align_corners=False``).
    """
    attention = np.asarray(attention, dtype=np.float32)
    if attention.ndim != 3 or not np.isfinite(attention).all():
        raise ValueError('attention must be finite maps (L, h, w), got shape '
                         f'{attention.shape}')
    positions = attention.shape[1] * attention.shape[2]
    maps = torch.from_numpy(attention * positions)[:, None]
    return F.interpolate(maps, size=tuple(size), mode='bilinear',
                         align_corners=False)[:, 0].numpy()


def figure_to_rgb(fig: Figure) -> np.ndarray:
    """Render ``fig`` to an RGB uint8 array (H, W, 3)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _label_title(name: str, score: float, attends: bool = True) -> str:
    return f'{name}\n{score:.2f}' + ('' if attends else ' (no attention)')


def attention_figure(image: np.ndarray,
                     attention: Sequence[np.ndarray],
                     labels: Sequence[int],
                     scores: np.ndarray,
                     classes: Sequence[str],
                     per_scale: bool = False,
                     title: str = '') -> Figure:
    """The image, then one attention panel per label, one colour bar.

    Each panel is titled with the label's name and score and shows its
    relative attention (:func:`relative_attention`) blended over the image.
    Several scales (MS-CMA) are averaged by default: the head averages its
    scales' probabilities (eq. 11), so the mean map is where the fused
    prediction looks; ``per_scale=True`` draws one row per scale instead.

    Args:
        image (np.ndarray): RGB uint8 (H, W, 3), the image the model saw.
        attention (Sequence[np.ndarray]): One (N, h_s, w_s) array per scale
            (``get_attention`` of one image).
        labels (Sequence[int]): Labels to draw, in this order.
        scores (np.ndarray): Probabilities (N,).
        classes (Sequence[str]): Class names (N,).
        per_scale (bool): One row per scale. Defaults to False.
        title (str): Figure title.

    Returns:
        Figure: ``1 + len(labels)`` image panels (``1 + S * len(labels)``
        with ``per_scale``) and a colour bar when there are labels.
    """
    image = check_image(image)
    labels = [int(k) for k in labels]
    size = image.shape[:2]
    scales = [relative_attention(np.asarray(a)[labels], size)
              for a in attention] if labels else []
    if not labels:
        rows = [[]]
    elif per_scale:
        rows = [list(zip(labels, maps)) for maps in scales]
    else:
        mean = np.mean(scales, axis=0)
        flat = list(zip(labels, mean))
        rows = [flat[i:i + MAX_COLUMNS]
                for i in range(0, len(flat), MAX_COLUMNS)]
    cols = 1 + max(len(r) for r in rows)
    fig = Figure(figsize=(2.3 * cols + 0.9, 2.5 * len(rows) + 0.5), dpi=100,
                 layout='constrained')
    axes = fig.subplots(len(rows), cols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    axes[0, 0].imshow(image)
    axes[0, 0].set_title('input', fontsize=10)
    vmax = max([1.0] + [float(m.max()) for r in rows for _, m in r])
    norm = Normalize(0.0, vmax)
    for r, row in enumerate(rows):
        for c, (k, heat) in enumerate(row, start=1):
            ax = axes[r, c]
            ax.imshow(image)
            ax.imshow(heat, cmap=ATTENTION_CMAP, norm=norm,
                      alpha=OVERLAY_ALPHA)
            # An all-zero map: every position scored <= 0 (eq. 8 gives 0).
            ax.set_title(_label_title(classes[k], scores[k], heat.any()),
                         fontsize=10)
        if per_scale and labels:
            h, w = np.asarray(attention[r]).shape[1:]
            axes[r, 1].text(-0.06, 0.5, f'scale {r + 1} ({h}x{w})',
                            rotation=90, ha='right', va='center',
                            fontsize=10, transform=axes[r, 1].transAxes)
    if labels:
        bar = fig.colorbar(ScalarMappable(norm, ATTENTION_CMAP),
                           ax=axes[:, 1:].ravel().tolist(), shrink=0.8)
        bar.set_label('attention / uniform', fontsize=9)
    else:
        axes[0, 0].set_xlabel('no label selected', fontsize=9)
        axes[0, 0].set_axis_on()
        axes[0, 0].set_xticks([])
        axes[0, 0].set_yticks([])
    if len(attention) > 1 and not per_scale:
        title = (f'{title}  ' if title else '') + \
            f'(mean of {len(attention)} scales)'
    fig.suptitle(title, fontsize=10)
    return fig


def label_scores_figure(image: np.ndarray,
                        labels: Sequence[int],
                        scores: np.ndarray,
                        classes: Sequence[str],
                        thr: Optional[float] = None,
                        min_bars: int = 5,
                        title: str = '') -> Figure:
    """The image next to a bar chart of the best labels' scores.

    The selected ``labels`` are drawn in colour, then the next best labels
    in grey up to ``min_bars`` bars, best at the top; ``thr`` as a dashed
    line.

    Args:
        image (np.ndarray): RGB uint8 (H, W, 3).
        labels (Sequence[int]): Selected labels.
        scores (np.ndarray): Probabilities (N,).
        classes (Sequence[str]): Class names (N,).
        thr (float, optional): Threshold the labels were selected with.
        min_bars (int): Bars drawn at least. Defaults to 5.
        title (str): Figure title.

    Returns:
        Figure: Two panels: the image and the bars.
    """
    image = check_image(image)
    scores = np.asarray(scores, dtype=np.float64)
    selected = [int(k) for k in labels]
    rest = [int(k) for k in np.argsort(-scores, kind='stable')
            if int(k) not in selected]
    shown = selected + rest[:max(0, min_bars - len(selected))]
    fig = Figure(figsize=(8, max(3.0, 0.35 * len(shown) + 1.2)), dpi=100,
                 layout='constrained')
    ax_img, ax_bar = fig.subplots(1, 2, width_ratios=(1, 1.2))
    ax_img.imshow(image)
    ax_img.set_axis_off()
    ax_img.set_title('input', fontsize=10)
    y = np.arange(len(shown))[::-1]
    colours = ['tab:blue' if k in selected else 'lightgray' for k in shown]
    ax_bar.barh(y, scores[shown], color=colours)
    ax_bar.set_yticks(y, [classes[k] for k in shown], fontsize=10)
    for yi, k in zip(y, shown):
        inside = scores[k] > 0.85  # no room right of the bar
        ax_bar.text(scores[k] - 0.01 if inside else scores[k] + 0.01, yi,
                    f'{scores[k]:.2f}', va='center', fontsize=9,
                    ha='right' if inside else 'left',
                    color='white' if inside else 'black')
    xlabel = 'probability'
    if thr is not None:
        ax_bar.axvline(thr, color='black', linestyle='--', linewidth=1)
        xlabel += f' (dashed: threshold {thr:g})'
    ax_bar.set_xlabel(xlabel)
    ax_bar.set_xlim(0, 1)
    ax_bar.spines[['top', 'right']].set_visible(False)
    fig.suptitle(title, fontsize=10)
    return fig


def frame_attention_figure(scores: np.ndarray,
                           num_frames: Optional[int] = None,
                           temporal_stride: int = 1,
                           title: str = '') -> Figure:
    """Bars of one label's attention over the valid frames of a video.

    ``draw_featmap`` paints 2-D maps over images; attention over time reads
    best as bars over a frame axis. Each attention step covers
    ``temporal_stride`` frames (SNet: 16), the last one cut at
    ``num_frames``; the dashed line is uniform attention (1 / steps).

    Args:
        scores (np.ndarray): Attention of the valid steps, shape (T',).
        num_frames (int, optional): Frames of the video. Defaults to
            ``T' * temporal_stride``.
        temporal_stride (int): Frames per attention step. Defaults to 1.
        title (str): Figure title (label name and score, video).

    Returns:
        Figure: One panel.
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
    fig = Figure(figsize=(8, 3.2), dpi=100, layout='constrained')
    ax = fig.add_subplot()
    ax.bar(starts, scores, width=widths, align='edge', color='tab:blue',
           edgecolor='white', linewidth=0.5)
    ax.axhline(1.0 / len(scores), color='gray', linestyle='--', linewidth=1,
               label='uniform')
    if not scores.any():  # every position scored <= 0 for this label
        ax.text(0.5, 0.5, 'no attention: the label scores no frame above 0',
                ha='center', va='center', transform=ax.transAxes)
    ax.set_xlim(0, num_frames)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(float(scores.max()), 1.0 / len(scores)) * 1.15)
    ax.set_xlabel(f'frame (1 per second; {num_frames} valid frames)')
    ax.set_ylabel('attention')
    ax.legend(loc='upper right', fontsize=8, frameon=False)
    ax.spines[['top', 'right']].set_visible(False)
    ax.set_title(title, fontsize=10)
    return fig
