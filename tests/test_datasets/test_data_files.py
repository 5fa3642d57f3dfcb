"""Text files, image paths and image sizes of the datasets; VOCMultiLabel."""
import json
import struct
import zlib

import cv2
import numpy as np
import pytest

from mmcma.datasets import (CocoMultiLabel, DataFileError, ImageLoadError,
                            ImageTooLargeError, VOCMultiLabel,
                            check_image_size, get_label_matrix)
from mmcma.datasets.files import (read_lines, read_path_list,
                                  relative_path_problem)
from mmcma.datasets.image_check import DEFAULT_MAX_PIXELS


def png_header(path, width, height):
    """A PNG with only its header (no pixel data): cheap to write at any
    size, and undecodable, so only a header reader can tell its size."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack('>I', len(data)) + body + struct.pack(
            '>I', zlib.crc32(body))
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) +
                     chunk(b'IEND', b''))
    return str(path)


@pytest.mark.parametrize('name, problem', [
    ('a.png', None),
    ('sub/dir/a.png', None),
    ('sub/../a.png', None),
    ('./a.png', None),
    ('../a.png', 'leaves the image folder'),
    ('sub/../../a.png', 'leaves the image folder'),
    ('/abs/a.png', 'is an absolute path'),
    ('', 'is empty'),
    ('.', 'names the image folder itself'),
    ('a\0.png', 'NUL'),
    (3, 'is of type int, not a string'),
    (None, 'is of type NoneType'),
])
def test_relative_path_problem(name, problem):
    found = relative_path_problem(name)
    if problem is None:
        assert found is None
    else:
        assert problem in found


def test_read_lines(tmp_path):
    path = tmp_path / 'list.txt'
    path.write_bytes(b'\xef\xbb\xbfa \r\nb\r\n\r\n\n')  # BOM, CRLF, trailing
    assert read_lines(str(path)) == ['a', 'b']
    path.write_bytes(b'a\n  \nb\n')
    with pytest.raises(DataFileError, match='list.txt: line 2 is blank'):
        read_lines(str(path))
    path.write_bytes('a\nb\n'.encode('utf-16'))
    with pytest.raises(DataFileError, match='list.txt: not a UTF-8 text'):
        read_lines(str(path))
    with pytest.raises(FileNotFoundError, match='file not found: .*none.txt'):
        read_lines(str(tmp_path / 'none.txt'))


def test_read_path_list(tmp_path):
    path = tmp_path / 'list.txt'
    path.write_text('a\\1.jpg\nb/2.jpg\n')
    assert read_path_list(str(path)) == ['a/1.jpg', 'b/2.jpg']
    path.write_text('a/1.jpg\nb/../a/1.jpg\n')
    with pytest.raises(DataFileError, match='lines 1 and 2 list the same'):
        read_path_list(str(path))


def test_image_size_read_from_header_only(tmp_path):
    # 8000 x 8000 = 64 MP claimed by a 57-byte file: decoding it would fail
    # ("cannot be decoded"), so the size can only come from the header.
    path = png_header(tmp_path / 'big.png', 8000, 8000)
    assert 8000 * 8000 > DEFAULT_MAX_PIXELS
    with pytest.raises(ImageTooLargeError,
                       match='big.png is 8000x8000 = 64,000,000 pixels, over '
                       'the limit max_pixels=50,000,000: raise max_pixels'):
        check_image_size(path, DEFAULT_MAX_PIXELS)
    check_image_size(path, 64_000_000)
    check_image_size(path, None)
    assert issubclass(ImageTooLargeError, ImageLoadError)


def test_decompression_bomb_beyond_pillow(tmp_path):
    # 20000 x 20000 = 400 MP: Pillow itself refuses to open it (over twice
    # its MAX_IMAGE_PIXELS); the error still names the file and the limit.
    path = png_header(tmp_path / 'bomb.png', 20000, 20000)
    with pytest.raises(ImageTooLargeError,
                       match='bomb.png is too large for Pillow.*max_pixels'):
        check_image_size(path, DEFAULT_MAX_PIXELS)


def test_unreadable_headers_are_left_to_the_decoder(tmp_path):
    (tmp_path / 'junk.png').write_bytes(b'not an image')
    check_image_size(str(tmp_path / 'junk.png'), 1)
    check_image_size(str(tmp_path / 'missing.png'), 1)
    check_image_size('s3://bucket/a.png', 1)


VOC_XML = ('<annotation>{}</annotation>')
VOC_OBJECT = '<object><name>{}</name><difficult>{}</difficult></object>'


@pytest.fixture
def voc_root(tmp_path):
    for folder in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / 'ImageSets/Main/trainval.txt').write_text('000001\n000002\n')
    objects = {'000001': VOC_OBJECT.format('dog', 0) +
               VOC_OBJECT.format('cat', 1) + VOC_OBJECT.format('dog', 0),
               '000002': '<object><name> person </name></object>'}
    for img_id, body in objects.items():
        (tmp_path / f'Annotations/{img_id}.xml').write_text(
            VOC_XML.format(body))
        cv2.imwrite(str(tmp_path / f'JPEGImages/{img_id}.jpg'),
                    np.zeros((6, 5, 3), np.uint8))
    return tmp_path


def build_voc(root, split='trainval', **kwargs):
    return VOCMultiLabel(data_root=str(root), split=split, **kwargs)


def test_voc_labels(voc_root):
    ds = build_voc(voc_root, pipeline=[dict(type='LoadImageFromFile'),
                                       dict(type='PackInputs')])
    classes = ds.metainfo['classes']
    first, second = ds.get_data_info(0), ds.get_data_info(1)
    assert first['gt_label'] == [classes.index('dog')]
    assert first['gt_label_difficult'] == [classes.index('cat')]
    # No <difficult>: counted as 0 (positive), as in MMDetection.
    assert second['gt_label'] == [classes.index('person')]
    assert second['gt_label_difficult'] == []
    assert first['img_path'].endswith('JPEGImages/000001.jpg')
    assert tuple(ds[0]['inputs'].shape) == (3, 6, 5)
    with pytest.raises(ImageTooLargeError, match='000001.jpg is 5x6 = 30'):
        build_voc(voc_root, max_pixels=29,
                  pipeline=[dict(type='LoadImageFromFile')])[0]


@pytest.mark.parametrize('body, message', [
    (VOC_OBJECT.format('dgo', 0),
     "000001.xml: object 0 has the class 'dgo', which is not one of the 20"),
    ('<object><difficult>0</difficult></object>',
     '000001.xml: object 0 has no <name>'),
    (VOC_OBJECT.format('dog', 'x'),
     '000001.xml: object 0 has <difficult>x</difficult>: it must be 0 or 1'),
    ('<object>', '000001.xml: malformed xml'),
])
def test_voc_bad_xml(voc_root, body, message):
    (voc_root / 'Annotations/000001.xml').write_text(VOC_XML.format(body))
    with pytest.raises(DataFileError, match=message):
        build_voc(voc_root)


@pytest.mark.parametrize('lines, message', [
    ('', 'trainval.txt: the list is empty'),
    ('000001\n\n000002\n', 'trainval.txt: line 2 is blank'),
    ('../../000001\n', "trainval.txt: line 1, '../../000001' leaves"),
])
def test_voc_bad_image_set(voc_root, lines, message):
    (voc_root / 'ImageSets/Main/trainval.txt').write_text(lines)
    with pytest.raises(DataFileError, match=message):
        build_voc(voc_root)


def test_voc_missing_files(voc_root):
    (voc_root / 'Annotations/000002.xml').unlink()
    with pytest.raises(FileNotFoundError, match="annotation file not found: "
                       ".*000002.xml \\(image '000002' of .*trainval.txt"):
        build_voc(voc_root)
    with pytest.raises(FileNotFoundError, match='file not found: .*test.txt'):
        build_voc(voc_root, split='test')


def test_dataset_checks_size_before_decoding(tmp_path):
    # A header-only image cannot be decoded: if the size check came after
    # the pipeline, this would fail as "cannot be decoded" instead.
    (tmp_path / 'images').mkdir()
    png_header(tmp_path / 'images' / 'big.png', 8000, 8000)
    (tmp_path / 'ann.json').write_text(json.dumps(dict(
        images=[dict(id=1, file_name='big.png')],
        annotations=[dict(id=1, image_id=1, category_id=1)],
        categories=[dict(id=1, name='x')])))
    ds = CocoMultiLabel(ann_file='ann.json', data_root=str(tmp_path),
                        data_prefix='images',
                        pipeline=[dict(type='LoadImageFromFile')])
    with pytest.raises(ImageTooLargeError, match='big.png is 8000x8000'):
        ds[0]
    ds = CocoMultiLabel(ann_file='ann.json', data_root=str(tmp_path),
                        data_prefix='images', max_pixels=None,
                        pipeline=[dict(type='LoadImageFromFile')])
    with pytest.raises(ImageLoadError, match='cannot be decoded.*big.png'):
        ds[0]


class LabelList:
    """A dataset-like object with given label indices per sample."""

    metainfo = dict(classes=('a', 'b', 'c'))

    def __init__(self, labels):
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def get_cat_ids(self, idx):
        return self.labels[idx]


@pytest.mark.parametrize('bad', [3, -1])
def test_label_matrix_refuses_labels_out_of_range(bad):
    np.testing.assert_array_equal(get_label_matrix(LabelList([[0, 2], []])),
                                  [[1, 0, 1], [0, 0, 0]])
    with pytest.raises(ValueError, match='sample 1 of LabelList has a label '
                       'outside \\[0, 3\\)'):
        get_label_matrix(LabelList([[0], [1, bad]]))
