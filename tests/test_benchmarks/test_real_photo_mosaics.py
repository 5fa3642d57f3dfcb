"""benchmarks/real_photo_mosaics.py: IDX reading, mosaics, COCO output."""
import gzip
import os
import os.path as osp

import numpy as np
import pytest

import real_photo_mosaics as rpm

from mmcma.datasets import CocoMultiLabel, get_label_matrix


def _write_idx(path, magic, array):
    header = magic.to_bytes(4, 'big') + b''.join(
        d.to_bytes(4, 'big') for d in array.shape)
    with gzip.open(path, 'wb') as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_read_idx_round_trip_and_errors(tmp_path):
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4) % 256
    _write_idx(tmp_path / 'img.gz', 2051, images)
    np.testing.assert_array_equal(rpm.read_idx(str(tmp_path / 'img.gz'),
                                               2051), images)
    with pytest.raises(ValueError, match='img.gz: not an IDX file'):
        rpm.read_idx(str(tmp_path / 'img.gz'), 2049)
    with gzip.open(tmp_path / 'short.gz', 'wb') as f:
        f.write((2049).to_bytes(4, 'big') + (5).to_bytes(4, 'big') + b'ab')
    with pytest.raises(ValueError, match='short.gz: expected'):
        rpm.read_idx(str(tmp_path / 'short.gz'), 2049)


def test_mosaic_cells_hold_their_classes():
    rng = np.random.default_rng(0)

    def sampler(rng, cls):  # a flat patch whose grey value is the class
        return np.full((10, 10, 3), 20 * (cls + 1), np.uint8)

    for _ in range(20):
        canvas, items = rpm.compose_mosaic(rng, sampler, 5, ((0, 1), ), 60)
        grid = 60 // items[0]['bbox'][2]
        assert grid in (2, 3) and 1 <= len(items) < grid * grid
        filled = np.zeros((60, 60), bool)
        for item in items:
            x, y, w, h = item['bbox']
            assert (canvas[y:y + h, x:x + w] == 20 * (item['cls'] + 1)).all()
            filled[y:y + h, x:x + w] = True
        assert (canvas[~filled] == 0).all()  # empty cells stay black


def test_photo_regions_do_not_overlap():
    image = np.arange(40 * 100).reshape(40, 100)
    train, val = (rpm.split_region(image, s) for s in ('train', 'val'))
    assert train.shape == (40, 65) and val.shape == (40, 35)
    np.testing.assert_array_equal(np.hstack([train, val]), image)


def test_photos_source_reads_as_coco(tmp_path):
    pytest.importorskip('skimage')
    files = rpm.generate(str(tmp_path), 'photos', num_train=6, num_val=3,
                         seed=1)
    dataset = CocoMultiLabel(ann_file=files['train'], data_root='',
                             data_prefix=dict(img_path=str(tmp_path /
                                                           'train')),
                             drop_empty=False)
    assert len(dataset) == 6
    assert dataset.metainfo['classes'] == tuple(
        n for n, _ in rpm.PHOTO_SOURCES)
    labels = get_label_matrix(dataset)
    assert labels.shape == (6, 16) and (labels.sum(1) >= 1).all()
    assert len(os.listdir(tmp_path / 'val')) == 3
    # Same seed, same bytes.
    again = rpm.generate(str(tmp_path / 'again'), 'photos', 6, 3, seed=1)
    assert open(again['train']).read() == open(files['train']).read()


@pytest.mark.skipif(not osp.isdir(rpm.FASHION_ROOT),
                    reason='apt-get install dataset-fashion-mnist')
def test_fashion_items_come_from_their_split():
    rng = np.random.default_rng(0)
    train, val = rpm.fashion_sampler('train'), rpm.fashion_sampler('val')
    item = train(rng, 1)
    assert item.shape == (28, 28, 3) and item.dtype == np.uint8
    assert val(rng, 9).shape == (28, 28, 3)
