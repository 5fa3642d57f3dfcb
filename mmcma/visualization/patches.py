"""The spatial-context figure: object and context patches with their labels.

Each label's best patch is drawn in the label's colour: the object patch
solid, its context patch dashed (a legend says so), and a name tag
``"<class> <score>"`` placed where it neither covers another tag nor leaves
the image. mmengine's ``draw_texts`` puts each text at a given point and
lets texts overlap and run off the image; placing them needs their rendered
extents, which only matplotlib's renderer knows, hence this module.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox

from .figures import check_image

#: Colours of the drawn labels, in rank order (matplotlib's tab10).
PATCH_COLOURS = colormaps['tab10'].colors
#: Longer side of the image in the figure, inches (at 100 dpi).
IMAGE_INCHES = 5.0
#: Tag font sizes tried in turn until every tag finds a free place.
FONT_SIZES = (9, 8, 7, 6)
#: Pixels kept free between two tags, and between a tag and the image edge.
GAP = 2.0


def _tag_colour(rgb: Sequence[float]) -> str:
    """Black or white text, whichever reads better on ``rgb``."""
    luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return 'black' if luminance > 0.6 else 'white'


def _inside(rect: Bbox, area: Bbox) -> bool:
    return (rect.x0 >= area.x0 + GAP and rect.x1 <= area.x1 - GAP
            and rect.y0 >= area.y0 + GAP and rect.y1 <= area.y1 - GAP)


def _free(rect: Bbox, placed: List[Bbox]) -> bool:
    return not any(
        rect.padded(GAP / 2).overlaps(p.padded(GAP / 2)) for p in placed)


def _candidates(box: Bbox, size: Tuple[float, float],
                area: Bbox) -> List[Tuple[float, float]]:
    """Lower-left corners for a tag of ``size`` (display pixels): next to
    ``box`` first (above, inside the top, below, inside the bottom; left
    then right aligned), then every place on a grid over ``area``, nearest
    to the box's top-left corner first."""
    width, height = size
    near = [(x, y) for x in (box.x0, box.x1 - width)
            for y in (box.y1, box.y1 - height, box.y0 - height, box.y0)]
    xs = np.arange(area.x0 + GAP, area.x1 - GAP - width + 1e-6,
                   max(2.0, width / 4))
    ys = np.arange(area.y0 + GAP, area.y1 - GAP - height + 1e-6,
                   max(2.0, height / 2))
    grid = [(float(x), float(y)) for x in xs for y in ys]
    grid.sort(key=lambda p: (p[0] - box.x0)**2 + (p[1] + height - box.y1)**2)
    return near + grid


def place_tags(fig: Figure, ax, tags: list,
               boxes: np.ndarray) -> Optional[List[Tuple[int, Bbox, Bbox]]]:
    """Move each tag (a ``Text`` with a bbox patch) to a free place near its
    box, inside the image.

    Tags are placed in order (best label first), each at the first of
    :func:`_candidates` that lies inside the image and clear of the tags
    placed before it.

    Returns:
        ``(index, tag extent, box extent)`` (display pixels) of the tags
        placed away from their box (they need a leader line), or None if
        some tag found no place.
    """
    renderer = FigureCanvasAgg(fig).get_renderer()
    area = ax.images[0].get_window_extent(renderer)
    origin = ax.transData.transform((0, 0))
    placed, away = [], []
    for index, (tag, box) in enumerate(zip(tags, boxes)):
        corners = ax.transData.transform([[box[0], box[1]], [box[2], box[3]]])
        box_px = Bbox.from_extents(*corners.min(0), *corners.max(0))
        tag.set_position((0, 0))
        tag.update_bbox_position_size(renderer)
        extent = tag.get_bbox_patch().get_window_extent(renderer)
        offset = origin - np.array([extent.x0, extent.y0])
        size = (extent.width, extent.height)
        for i, (x, y) in enumerate(_candidates(box_px, size, area)):
            rect = Bbox.from_bounds(x, y, *size)
            if _inside(rect, area) and _free(rect, placed):
                break
        else:
            return None
        placed.append(rect)
        tag.set_position(ax.transData.inverted().transform(
            np.array([x, y]) + offset))
        if i >= 8:  # a grid place, away from the box
            away.append((index, rect, box_px))
    return away


def patch_figure(image: np.ndarray,
                 boxes: np.ndarray,
                 context_boxes: np.ndarray,
                 labels: Sequence[int],
                 scores: Sequence[float],
                 classes: Sequence[str],
                 title: str = '') -> Figure:
    """The image with each label's object patch (solid), context patch
    (dashed) and name tag, in the label's colour, and a legend.

    Args:
        image (np.ndarray): RGB uint8 (H, W, 3), the image the model saw
            (the boxes are in its pixels).
        boxes (np.ndarray): Object patches (k, 4), ``x0, y0, x1, y1``.
        context_boxes (np.ndarray): Their context patches (k, 4).
        labels (Sequence[int]): Label of each pair (one pair per label).
        scores (Sequence[float]): Score of each pair.
        classes (Sequence[str]): Class names.
        title (str): Figure title.

    Returns:
        Figure: One image panel; the tags' layout is fixed (later draws do
        not move the axes).
    """
    image = check_image(image)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    context_boxes = np.asarray(context_boxes, np.float64).reshape(-1, 4)
    height, width = image.shape[:2]
    scale = IMAGE_INCHES / max(height, width)
    fig = Figure(figsize=(width * scale + 0.4, height * scale + 1.0),
                 dpi=100, layout='constrained')
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(image, interpolation='nearest')
    ax.set_axis_off()
    tags = []
    for i, (k, score) in enumerate(zip(labels, scores)):
        colour = PATCH_COLOURS[i % len(PATCH_COLOURS)]
        for box, style, lw in ((context_boxes[i], '--', 1.5),
                               (boxes[i], '-', 2.0)):
            ax.add_patch(Rectangle(box[:2], box[2] - box[0], box[3] - box[1],
                                   fill=False, edgecolor=colour,
                                   linestyle=style, linewidth=lw))
        tags.append(ax.text(0, 0, f'{classes[int(k)]} {score:.2f}',
                            color=_tag_colour(colour), ha='left', va='bottom',
                            bbox=dict(boxstyle='square,pad=0.25',
                                      facecolor=colour, edgecolor='none',
                                      alpha=0.85)))
    if not tags:
        ax.set_title('no patch to draw', fontsize=9)
    fig.legend(handles=[
        Line2D([], [], color='0.2', linestyle='-', linewidth=2,
               label='object patch'),
        Line2D([], [], color='0.2', linestyle='--', linewidth=1.5,
               label='context patch')
    ], loc='outside lower center', ncols=2, fontsize=9, frameon=False,
        title='colour: label; tag: label and patch score',
        title_fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.draw_without_rendering()  # the constrained layout, once
    fig.set_layout_engine('none')
    for size in FONT_SIZES:
        for tag in tags:
            tag.set_fontsize(size)
        away = place_tags(fig, ax, tags, boxes)
        if away is not None:
            break
    else:  # no room for every tag even at the smallest size
        for tag in tags:
            tag.set_visible(False)
        ax.set_title('labels left out: no room for their tags', fontsize=9)
        away = []
    to_data = ax.transData.inverted()
    for index, rect, box_px in away:
        ends = to_data.transform([[rect.x0, rect.y1], [box_px.x0, box_px.y1]])
        ax.add_line(Line2D(ends[:, 0], ends[:, 1], lw=0.8,
                           color=PATCH_COLOURS[index % len(PATCH_COLOURS)]))
    return fig
