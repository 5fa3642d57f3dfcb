"""The spatial-context figure: a legend for solid / dashed patches, and
name tags that neither overlap nor leave the image, measured from the
extents matplotlib renders."""
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from mmcma.visualization import (AttentionVisualizer, figure_to_rgb,
                                 patch_figure)

CLASSES = ['airplane', 'bird', 'boat', 'car', 'cloud', 'fish', 'house',
           'kite', 'person', 'sun', 'traffic light', 'tree']


def tag_extents(fig):
    """Display extents of the drawn tags (text with its box) and of the
    image, as rendered."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    [ax] = [a for a in fig.axes if a.images]
    tags = [t for t in ax.texts if t.get_visible()]
    return ([t.get_bbox_patch().get_window_extent(renderer) for t in tags],
            ax.images[0].get_window_extent(renderer), tags)


def assert_tags_clear(fig):
    boxes, image, tags = tag_extents(fig)
    for i, a in enumerate(boxes):
        # Inside the image ...
        assert (a.x0 >= image.x0 and a.x1 <= image.x1 and a.y0 >= image.y0
                and a.y1 <= image.y1), (tags[i].get_text(), a, image)
        # ... and clear of every other tag.
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (tags[i].get_text(), a, b)
    return tags


def crowded(k, size=64, seed=0):
    """k pairs packed near the top-left corner and the image edges, where
    naive tags would overlap and run off the image."""
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(0, 4, k)
    y0 = rng.uniform(0, 4, k)
    boxes = np.stack([x0, y0, x0 + rng.uniform(4, 10, k),
                      y0 + rng.uniform(4, 10, k)], 1)
    context = boxes + np.array([-4, -4, 4, 4])  # leaves the image
    return boxes, context


@pytest.mark.parametrize('k, size', [(1, 64), (5, 64), (12, 64), (8, 448),
                                     (6, 20)])
def test_tags_neither_overlap_nor_leave_the_image(k, size):
    image = np.full((size, size, 3), 128, np.uint8)
    boxes, context = crowded(k, size)
    boxes, context = boxes * size / 64, context * size / 64
    labels = list(range(k))
    scores = np.linspace(0.99, 0.5, k)
    fig = patch_figure(image, boxes, context, labels, scores, CLASSES,
                       title='crowded')
    tags = assert_tags_clear(fig)
    assert [t.get_text() for t in tags] == [
        f'{CLASSES[c]} {s:.2f}' for c, s in zip(labels, scores)]


def test_tags_at_the_right_and_bottom_edges():
    image = np.zeros((40, 60, 3), np.uint8)  # not square
    boxes = np.array([[50, 30, 60, 40], [55, 35, 60, 40], [0, 35, 6, 40]],
                     np.float64)
    fig = patch_figure(image, boxes, boxes + [-5, -5, 5, 5], [10, 3, 0],
                       [0.9, 0.8, 0.7], CLASSES)
    assert len(assert_tags_clear(fig)) == 3


def test_boxes_styles_colours_and_legend():
    image = np.zeros((64, 64, 3), np.uint8)
    boxes = np.array([[10, 10, 20, 20], [30, 30, 50, 50]], np.float64)
    context = np.array([[5, 5, 25, 25], [20, 20, 60, 60]], np.float64)
    fig = patch_figure(image, boxes, context, [4, 1], [0.9, 0.4], CLASSES)
    [ax] = [a for a in fig.axes if a.images]
    rects = ax.patches
    assert len(rects) == 4
    # Per pair: the context patch dashed, then the object patch solid, in
    # the pair's colour; the two pairs' colours differ.
    for i, (ctx, obj) in enumerate(zip(rects[::2], rects[1::2])):
        assert ctx.get_linestyle() == '--' and obj.get_linestyle() == '-'
        np.testing.assert_allclose(ctx.get_xy(), context[i, :2])
        np.testing.assert_allclose(obj.get_xy(), boxes[i, :2])
        assert obj.get_width() == pytest.approx(boxes[i, 2] - boxes[i, 0])
        assert ctx.get_edgecolor() == obj.get_edgecolor()
    assert rects[0].get_edgecolor() != rects[2].get_edgecolor()
    [legend] = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        'object patch', 'context patch']
    assert [h.get_linestyle() for h in legend.legend_handles] == ['-', '--']


def test_no_patch_and_the_visualizer(tmp_path):
    image = np.zeros((32, 32, 3), np.uint8)
    fig = patch_figure(image, np.zeros((0, 4)), np.zeros((0, 4)), [], [],
                       CLASSES)
    assert 'no patch' in fig.axes[0].get_title()
    visualizer = AttentionVisualizer(name='test_patch_figure')
    boxes = np.array([[1, 1, 9, 9]], np.float64)
    out = tmp_path / 'p.png'
    drawn = visualizer.add_patches('p', image, boxes, boxes, [2], [0.5],
                                   CLASSES, out_file=str(out))
    expected = figure_to_rgb(patch_figure(image, boxes, boxes, [2], [0.5],
                                          CLASSES, title='p'))
    np.testing.assert_array_equal(drawn, expected)
    assert out.read_bytes()[:4] == b'\x89PNG'
