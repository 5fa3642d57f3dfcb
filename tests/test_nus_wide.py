"""NUSWIDE dataset in the distributed image-list + label-file layout."""
import cv2
import numpy as np
import pytest

from mmcma.datasets import NUSWIDE, ImageLoadError, get_label_matrix

CONCEPTS = ['animal', 'beach', 'sky']
IMAGES = ['actor\\a.jpg', 'beach\\b.jpg', 'sky\\c.jpg', 'sky\\d.jpg']
LABELS = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0], [1, 0, 1]])


@pytest.fixture
def root(tmp_path):
    (tmp_path / 'Concepts81.txt').write_text('\n'.join(CONCEPTS) + '\n')
    (tmp_path / 'list.txt').write_text('\n'.join(IMAGES) + '\n')
    labels = tmp_path / 'labels'
    labels.mkdir()
    for k, c in enumerate(CONCEPTS):
        (labels / f'Labels_{c}_Train.txt').write_text(
            '\n'.join(str(v) for v in LABELS[:, k]) + '\n')
    (tmp_path / 'tags.txt').write_text(
        '\n'.join(' '.join(map(str, r)) for r in LABELS) + '\n')
    for name in IMAGES:
        path = tmp_path / 'Flickr' / name.replace('\\', '/')
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), np.zeros((4, 4, 3), np.uint8))
    return tmp_path


def build(root, **kwargs):
    args = dict(image_list='list.txt', concepts='Concepts81.txt',
                data_root=str(root), data_prefix='Flickr')
    if 'label_file' not in kwargs:
        args['label_dir'] = 'labels'
    args.update(kwargs)
    return NUSWIDE(**args)


def test_label_dir_and_label_file_agree(root):
    a = build(root, drop_empty=False)
    b = build(root, label_file='tags.txt', drop_empty=False)
    assert a.metainfo['classes'] == tuple(CONCEPTS)
    np.testing.assert_array_equal(get_label_matrix(a), LABELS)
    np.testing.assert_array_equal(get_label_matrix(b), LABELS)
    assert a.get_data_info(1)['img_path'].endswith('Flickr/beach/b.jpg')


def test_drop_empty(root):
    ds = build(root)
    assert len(ds) == 3
    np.testing.assert_array_equal(get_label_matrix(ds), LABELS[[0, 1, 3]])


def test_mismatched_line_counts(root):
    (root / 'labels' / 'Labels_beach_Train.txt').write_text('0\n1\n')
    with pytest.raises(ValueError, match='Labels_beach_Train.txt: 2 lines '
                       'for 4 images'):
        build(root)
    (root / 'tags.txt').write_text('1 0 0\n')
    with pytest.raises(ValueError, match='tags.txt: 1 label lines for 4'):
        build(root, label_file='tags.txt')


def test_bad_values(root):
    (root / 'tags.txt').write_text('1 0 0\n0 2 0\n0 0 0\n1 0 1\n')
    with pytest.raises(ValueError, match='must be 0 or 1'):
        build(root, label_file='tags.txt')
    (root / 'tags.txt').write_text('1 0\n0 1\n0 0\n1 0\n')
    with pytest.raises(ValueError, match='3 columns'):
        build(root, label_file='tags.txt')
    with pytest.raises(ValueError, match='exactly one'):
        build(root, label_file='tags.txt', label_dir='labels')


def test_missing_image(root):
    (root / 'Flickr' / 'sky' / 'd.jpg').unlink()
    ds = build(root, pipeline=[dict(type='LoadImageFromFile'),
                               dict(type='PackInputs')])
    assert ds[0]['inputs'].shape == (3, 4, 4)
    with pytest.raises(ImageLoadError, match='sky/d.jpg'):
        ds[2]
