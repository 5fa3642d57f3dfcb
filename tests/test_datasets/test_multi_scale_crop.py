"""ML-GCN's MultiScaleCrop: crop sizes, the 13 places, the output."""
import numpy as np
import pytest
from mmpretrain.registry import TRANSFORMS

from mmcma.datasets.transforms.multi_scale_crop import (MultiScaleCrop,
                                                        crop_offsets,
                                                        crop_sizes)

ML_GCN_SCALES = (1.0, 0.875, 0.75, 0.66, 0.5)


def test_crop_sizes_hand_worked():
    # Short side 400: sides 400, 350, 300, 264, 200; scale indices at most
    # 2 apart: 25 pairs minus the 6 with distance 3 or 4.
    sizes = crop_sizes(400, 600, (448, 448), ML_GCN_SCALES, 2)
    assert len(sizes) == 19 and len(set(sizes)) == 19
    assert (400, 400) in sizes and (300, 400) in sizes
    assert (264, 400) not in sizes and (400, 200) not in sizes
    assert crop_sizes(400, 600, (448, 448), ML_GCN_SCALES, 0) == [
        (400, 400), (350, 350), (300, 300), (264, 264), (200, 200)]
    # Within 3 px of the output side: the output side (never beyond the
    # image).
    assert crop_sizes(450, 900, (448, 448), (1.0, ), 0) == [(448, 448)]
    assert crop_sizes(446, 900, (448, 448), (1.0, ), 0) == [(448, 446)]


def test_crop_offsets_hand_worked():
    offsets = crop_offsets(400, 600, 200, 300)  # free: 400 x 100 -> 100, 25
    assert offsets[:5] == [(0, 0), (400, 0), (0, 100), (400, 100),
                           (200, 50)]
    assert set(offsets) == {(100 * qx, 25 * qy)
                            for qx, qy in [(0, 0), (4, 0), (0, 4), (4, 4),
                                           (2, 2), (0, 2), (4, 2), (2, 4),
                                           (2, 0), (1, 1), (3, 1), (1, 3),
                                           (3, 3)]}


def test_sampled_boxes_cover_the_candidates_and_stay_inside():
    np.random.seed(0)
    transform = MultiScaleCrop(448)
    sizes = set(crop_sizes(400, 600, (448, 448), ML_GCN_SCALES, 2))
    seen = set()
    for _ in range(3000):
        x, y, w, h = transform.sample_box(400, 600)
        assert (w, h) in sizes
        assert (x, y) in crop_offsets(400, 600, w, h)
        assert 0 <= x and x + w <= 600 and 0 <= y and y + h <= 400
        seen.add((w, h))
    assert seen == sizes


def test_transform_output_and_registry():
    np.random.seed(1)
    transform = TRANSFORMS.build(dict(type='MultiScaleCrop', scale=(48, 32)))
    img = np.random.randint(0, 255, (40, 70, 3), dtype=np.uint8)
    out = transform(dict(img=img.copy()))
    assert out['img'].shape == (32, 48, 3) and out['img_shape'] == (32, 48)
    # The crop is the image's pixels: a 20 x 20 crop of a 40 x 40 image
    # kept at 20 x 20 is one of its 13 windows.
    img = np.random.randint(0, 255, (40, 40, 3), dtype=np.uint8)
    out = MultiScaleCrop(20, scales=(0.5, ), max_distort=0)(
        dict(img=img.copy()))['img']
    windows = [img[y:y + 20, x:x + 20]
               for x, y in crop_offsets(40, 40, 20, 20)]
    assert any(np.array_equal(out, w) for w in windows)


def test_bad_arguments():
    with pytest.raises(ValueError, match='scale'):
        MultiScaleCrop(0)
    with pytest.raises(ValueError, match='scales'):
        MultiScaleCrop(448, scales=(1.2, ))
    with pytest.raises(ValueError, match='max_distort'):
        MultiScaleCrop(448, max_distort=-1)
