"""Attention overlays (mmengine's draw_featmap) and the image figure."""
import warnings

import numpy as np
import pytest

from mmcma.visualization import overlay_attention, plot_image_attention

# OpenCV's jet colour map at its ends, in RGB: dark blue and dark red.
JET_LOW, JET_HIGH = np.array([0, 0, 128]), np.array([128, 0, 0])


def test_overlay_blends_the_upsampled_map():
    image = np.full((8, 12, 3), 100, np.uint8)
    attention = np.zeros((2, 3), np.float32)
    attention[1, 2] = 0.4  # scaled min..max: this cell is the top colour
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the resize warning is silenced
        out = overlay_attention(image, attention, alpha=0.5)
    assert out.shape == (8, 12, 3) and out.dtype == np.uint8
    # Image corners far from / at the hot cell: 0.5 image + 0.5 jet end
    # (within the colour map's next step: draw_featmap truncates to uint8).
    np.testing.assert_allclose(out[0, 0], 50 + JET_LOW / 2, atol=2)
    np.testing.assert_allclose(out[-1, -1], 50 + JET_HIGH / 2, atol=2)
    # The hot cell's quarter of the image is hotter (redder) than the rest.
    red = out[..., 0].astype(int)
    assert red[4:, 8:].mean() > red[:4, :8].mean() + 20
    # alpha 0 leaves the image as it is.
    np.testing.assert_array_equal(overlay_attention(image, attention, 0.0),
                                  image)


def test_overlay_rejects_bad_inputs():
    image = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match='finite 2-D map'):
        overlay_attention(image, np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match='finite 2-D map'):
        overlay_attention(image, np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match='RGB uint8'):
        overlay_attention(image.astype(np.float32), np.zeros((2, 2)))
    with pytest.raises(ValueError, match='RGB uint8'):
        overlay_attention(image[..., 0], np.zeros((2, 2)))


def test_plot_image_attention_writes_png(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (16, 20, 3), dtype=np.uint8)
    out = tmp_path / 'fig.png'
    plot_image_attention(image, [('a', rng.random((4, 5))),
                                 ('b', np.zeros((2, 2)))], str(out), 'title')
    assert out.read_bytes().startswith(b'\x89PNG\r\n\x1a\n')
