"""Figures (attention grid, label scores, frames) and AttentionVisualizer."""
import glob
import os

import mmcv
import numpy as np
import pytest

from mmcma.visualization import (AttentionVisualizer, attention_figure,
                                 figure_to_rgb, frame_attention_figure,
                                 label_scores_figure, relative_attention)

CLASSES = ['cat', 'dog', 'car', 'tree']
SCORES = np.array([0.1, 0.8, 0.6, 0.3])
COLOURBAR_LABEL = 'attention / uniform'


def image_panels(fig):
    return [ax for ax in fig.axes if ax.images]


def colour_bars(fig):
    return [ax for ax in fig.axes if ax.get_ylabel() == COLOURBAR_LABEL]


def one_hot_maps(n, h, w, cell):
    """(n, h, w) attention, all of it on ``cell`` for every label."""
    maps = np.zeros((n, h, w), np.float32)
    maps[:, cell[0], cell[1]] = 1
    return maps


@pytest.fixture
def image():
    return np.random.default_rng(0).integers(0, 256, (16, 24, 3),
                                             dtype=np.uint8)


def test_relative_attention():
    uniform = np.full((2, 3, 4), 1 / 12, np.float32)
    np.testing.assert_allclose(relative_attention(uniform, (6, 8)), 1,
                               atol=1e-6)
    # All attention on one of 2x2 cells: 4 x uniform at that cell's centre
    # (bilinear up-sampling keeps values at the cell centres), 0 opposite.
    out = relative_attention(one_hot_maps(1, 2, 2, (1, 0)), (4, 4))[0]
    assert out.shape == (4, 4)
    assert out[3, 0] == pytest.approx(4) and out[0, 3] == pytest.approx(0)
    with pytest.raises(ValueError, match='finite maps'):
        relative_attention(np.full((1, 2, 2), np.nan), (4, 4))
    with pytest.raises(ValueError, match='finite maps'):
        relative_attention(np.zeros((2, 2)), (4, 4))


def test_attention_figure_panels_titles_colour_bar(image):
    maps = [np.random.default_rng(1).dirichlet(np.ones(12), 4).reshape(
        4, 3, 4).astype(np.float32)]
    fig = attention_figure(image, maps, [1, 2], SCORES, CLASSES, title='x')
    panels = image_panels(fig)
    assert len(panels) == 1 + 2  # the image, then one panel per label
    assert [ax.get_title() for ax in panels] == ['input', 'dog\n0.80',
                                                 'car\n0.60']
    assert len(colour_bars(fig)) == 1
    # Each label panel: the image and the label's relative attention over
    # it, on the shared colour scale 0..max.
    expected = relative_attention(maps[0][[1, 2]], image.shape[:2])
    for ax, heat in zip(panels[1:], expected):
        np.testing.assert_array_equal(ax.images[0].get_array(), image)
        np.testing.assert_allclose(ax.images[1].get_array(), heat,
                                   atol=1e-6)
        assert ax.images[1].norm.vmin == 0
        assert ax.images[1].norm.vmax == pytest.approx(expected.max())


def test_attention_figure_scales(image):
    """MS-CMA: scales averaged (default) or one row per scale."""
    fine = one_hot_maps(4, 4, 4, (0, 0))  # 16 positions: 16 x uniform
    coarse = np.full((4, 2, 2), 0.25, np.float32)  # uniform: 1
    fig = attention_figure(image, [fine, coarse], [0, 3], SCORES, CLASSES)
    panels = image_panels(fig)
    assert len(panels) == 3 and len(colour_bars(fig)) == 1
    mean = (relative_attention(fine[[0]], (16, 24))[0] + 1) / 2
    np.testing.assert_allclose(panels[1].images[1].get_array(), mean,
                               atol=1e-5)
    assert 'mean of 2 scales' in fig._suptitle.get_text()

    fig = attention_figure(image, [fine, coarse], [0, 3], SCORES, CLASSES,
                           per_scale=True)
    assert len(image_panels(fig)) == 1 + 2 * 2
    assert len(colour_bars(fig)) == 1
    assert fig.axes[0].images  # the input, then the rows
    # Many labels wrap into rows of at most five panels.
    fig = attention_figure(image, [np.repeat(coarse, 2, 0)], range(7),
                           np.linspace(0, 1, 8), CLASSES * 2)
    assert len(image_panels(fig)) == 1 + 7


def test_attention_figure_marks_labels_without_attention(image):
    maps = [np.full((4, 2, 2), 0.25, np.float32)]
    maps[0][2] = 0  # every position of 'car' scored <= 0
    fig = attention_figure(image, maps, [1, 2], SCORES, CLASSES)
    assert [ax.get_title() for ax in image_panels(fig)[1:]] == [
        'dog\n0.80', 'car\n0.60 (no attention)']


def test_attention_figure_without_labels(image):
    fig = attention_figure(image, [np.full((4, 2, 2), 0.25)], [], SCORES,
                           CLASSES)
    assert len(image_panels(fig)) == 1 and not colour_bars(fig)
    with pytest.raises(ValueError, match='RGB uint8'):
        attention_figure(image.astype(np.float32), [], [], SCORES, CLASSES)


def test_label_scores_figure(image):
    fig = label_scores_figure(image, [1, 2], SCORES, CLASSES, thr=0.5)
    assert len(image_panels(fig)) == 1
    bars = fig.axes[1]
    # Selected labels first (coloured), the next best up to five bars.
    names = [t.get_text() for t in bars.get_yticklabels()]
    assert names == ['dog', 'car', 'tree', 'cat']
    widths = [p.get_width() for p in bars.patches]
    assert widths == pytest.approx([0.8, 0.6, 0.3, 0.1])
    assert 'threshold 0.5' in bars.get_xlabel()


def test_frame_attention_figure():
    steps = np.array([0.1, 0.6, 0.3])
    fig = frame_attention_figure(steps, num_frames=40, temporal_stride=16,
                                 title='"skiing" 0.91')
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == pytest.approx(steps)
    # The last step is cut at the video's last valid frame.
    assert [p.get_width() for p in ax.patches] == [16, 16, 8]
    assert ax.get_xlim() == (0, 40)
    assert ax.lines[0].get_ydata()[0] == pytest.approx(1 / 3)  # uniform
    assert ax.get_title() == '"skiing" 0.91'
    assert not ax.texts
    fig = frame_attention_figure(np.zeros(2), 21, 16)
    assert 'no attention' in fig.axes[0].texts[0].get_text()
    with pytest.raises(ValueError, match='do not fit'):
        frame_attention_figure(np.ones(4), 40, 16)
    with pytest.raises(ValueError, match='NaN'):
        frame_attention_figure(np.array([np.nan]))


def test_visualizer_sends_the_figure_to_its_backends(image, tmp_path):
    visualizer = AttentionVisualizer(
        name='test_local', vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path))
    out = tmp_path / 'fig.png'
    maps = [np.full((4, 2, 3), 1 / 6, np.float32)]
    rendered = visualizer.add_attention('img', image, maps, [1], SCORES,
                                        CLASSES, step=3, out_file=str(out))
    assert rendered.ndim == 3 and rendered.dtype == np.uint8
    np.testing.assert_array_equal(visualizer.get_image(), rendered)
    [saved] = glob.glob(str(tmp_path / 'vis_data' / 'vis_image' / '*.png'))
    assert os.path.basename(saved) == 'img_3.png'
    for path in (saved, str(out)):
        np.testing.assert_array_equal(
            mmcv.imread(path, channel_order='rgb'), rendered)
    # Same figure as rendering it directly.
    fig = attention_figure(image, maps, [1], SCORES, CLASSES, title='img')
    np.testing.assert_array_equal(figure_to_rgb(fig), rendered)

    rendered = visualizer.add_label_scores('bars', image, [1], SCORES,
                                           CLASSES, thr=0.5)
    assert os.path.isfile(tmp_path / 'vis_data' / 'vis_image' / 'bars_0.png')


def test_tensorboard_backend_gets_the_image(image, tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    visualizer = AttentionVisualizer(
        name='test_tensorboard',
        vis_backends=[dict(type='TensorboardVisBackend')],
        save_dir=str(tmp_path))
    rendered = visualizer.add_attention(
        'attention', image, [np.full((4, 2, 2), 0.25, np.float32)], [0, 1],
        SCORES, CLASSES)
    visualizer.close()
    [events] = glob.glob(str(tmp_path / '**' / 'events.out.tfevents.*'),
                         recursive=True)
    accumulator = EventAccumulator(os.path.dirname(events))
    accumulator.Reload()
    assert accumulator.Tags()['images'] == ['attention']
    [summary] = accumulator.Images('attention')
    assert (summary.height, summary.width) == rendered.shape[:2]
    decoded = mmcv.imfrombytes(summary.encoded_image_string,
                               channel_order='rgb')
    np.testing.assert_array_equal(decoded, rendered)
