"""NUSWIDE dataset in the distributed image-list + label-file layout."""
import cv2
import numpy as np
import pytest

from mmcma.datasets import (NUSWIDE, DataFileError, ImageLoadError,
                            ImageTooLargeError, get_label_matrix)

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
    with pytest.raises(ValueError, match='Labels_beach_Train.txt: 2 label '
                       'lines for 4 images'):
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


@pytest.mark.parametrize('lines, message', [
    (['..\\..\\outside.jpg'] + IMAGES[1:],
     "list.txt: line 1, '../../outside.jpg' leaves the image folder"),
    (['/etc/passwd'] + IMAGES[1:],
     "list.txt: line 1, '/etc/passwd' is an absolute path"),
    ([IMAGES[0], '', *IMAGES[1:]], 'list.txt: line 2 is blank'),
    ([IMAGES[0], 'actor/a.jpg', *IMAGES[2:]],
     "list.txt: lines 1 and 2 list the same image 'actor/a.jpg'"),
    ([], 'list.txt: the list is empty'),
])
def test_bad_image_list(root, lines, message):
    (root / 'list.txt').write_text('\n'.join(lines) + '\n')
    with pytest.raises(DataFileError, match=message):
        build(root)


def test_bad_concepts(root):
    (root / 'Concepts81.txt').write_text('\n\n')
    with pytest.raises(DataFileError, match='Concepts81.txt: no concept'):
        build(root)
    (root / 'Concepts81.txt').write_text('sky\nbeach\nsky\n')
    with pytest.raises(DataFileError,
                       match="duplicate concept names \\['sky'"):
        build(root)
    (root / 'Concepts81.txt').write_bytes('café\nbeach\n'.encode('latin-1'))
    with pytest.raises(DataFileError,
                       match='Concepts81.txt: not a UTF-8 text file'):
        build(root)
    # A byte-order mark does not become part of the first concept's name.
    (root / 'Concepts81.txt').write_bytes(
        b'\xef\xbb\xbf' + '\n'.join(CONCEPTS).encode())
    assert build(root).metainfo['classes'] == tuple(CONCEPTS)


@pytest.mark.parametrize('value', ['nan', '-1', '1.0', 'yes'])
def test_label_values_name_the_line(root, value):
    (root / 'labels' / 'Labels_sky_Train.txt').write_text(
        f'0\n1\n{value}\n1\n')
    with pytest.raises(DataFileError, match=f"Labels_sky_Train.txt: line 3 "
                       f"holds '{value}': labels must be 0 or 1"):
        build(root)


def test_missing_label_files(root):
    (root / 'labels' / 'Labels_sky_Train.txt').unlink()
    with pytest.raises(FileNotFoundError,
                       match='file not found: .*Labels_sky_Train.txt'):
        build(root)
    with pytest.raises(FileNotFoundError, match='label folder not found'):
        build(root, label_dir='no_labels')


def test_given_classes_must_match_the_concepts(root):
    with pytest.raises(ValueError, match='Concepts81.txt: concepts differ '
                       'from the given classes'):
        build(root, metainfo=dict(classes=('animal', 'sky')))


def test_windows_line_endings(root):
    (root / 'list.txt').write_text('\r\n'.join(IMAGES) + '\r\n')
    (root / 'tags.txt').write_text(
        '\r\n'.join(' '.join(map(str, r)) + ' ' for r in LABELS))
    ds = build(root, label_file='tags.txt', drop_empty=False)
    np.testing.assert_array_equal(get_label_matrix(ds), LABELS)
    assert ds.get_data_info(3)['img_path'].endswith('Flickr/sky/d.jpg')


def test_all_images_dropped(root):
    (root / 'tags.txt').write_text('0 0 0\n' * 4)
    with pytest.raises(DataFileError, match='none of its 4 images has a '
                       'concept .* drop_empty=False'):
        build(root, label_file='tags.txt')
    assert len(build(root, label_file='tags.txt', drop_empty=False)) == 4


def test_max_pixels(root):
    ds = build(root, max_pixels=15, pipeline=[dict(type='LoadImageFromFile')])
    with pytest.raises(ImageTooLargeError,
                       match='actor/a.jpg is 4x4 = 16 pixels, over the limit'):
        ds[0]
