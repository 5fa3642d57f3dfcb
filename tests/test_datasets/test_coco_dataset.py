"""CocoMultiLabel against a hand-written COCO json."""
import json

import cv2
import numpy as np
import pytest
import torch

from mmcma.datasets import (CocoAnnotationError, CocoMultiLabel,
                            ImageLoadError, ImageTooLargeError,
                            get_label_matrix)

# Category ids are deliberately not in name order: 'zebra' (1), 'apple' (5),
# 'mouse' (3). COCO order (by id): zebra, mouse, apple. Alphabetical: apple,
# mouse, zebra.
CATEGORIES = [dict(id=1, name='zebra'), dict(id=5, name='apple'),
              dict(id=3, name='mouse')]
IMAGES = [dict(id=10, file_name='a.png'), dict(id=11, file_name='b.png'),
          dict(id=12, file_name='c.png'), dict(id=13, file_name='d.png')]
ANNOTATIONS = [
    dict(id=1, image_id=10, category_id=1, iscrowd=0),
    dict(id=2, image_id=10, category_id=5, iscrowd=0),
    dict(id=3, image_id=10, category_id=1, iscrowd=0),  # repeated instance
    dict(id=4, image_id=11, category_id=3, iscrowd=1),  # crowd only
    dict(id=5, image_id=12, category_id=5, iscrowd=0),
    dict(id=6, image_id=12, category_id=3, iscrowd=0),
    # image 13 has no annotation
]


def write_json(path, **overrides):
    data = dict(images=IMAGES, annotations=ANNOTATIONS,
                categories=CATEGORIES)
    data.update(overrides)
    path.write_text(json.dumps({k: v for k, v in data.items()
                                if v is not None}))
    return str(path)


@pytest.fixture
def coco_dir(tmp_path):
    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    for info in IMAGES:
        cv2.imwrite(str(img_dir / info['file_name']),
                    np.full((8, 8, 3), 100, np.uint8))
    write_json(tmp_path / 'ann.json')
    return tmp_path


def build(root, **kwargs):
    return CocoMultiLabel(ann_file='ann.json', data_root=str(root),
                          data_prefix='images', **kwargs)


def test_labels_coco_order(coco_dir):
    ds = build(coco_dir, drop_empty=False)
    assert ds.metainfo['classes'] == ('zebra', 'mouse', 'apple')
    assert ds.metainfo['category_ids'] == (1, 3, 5)
    # Rows follow image ids 10, 11, 12, 13.
    expected = np.array([[1, 0, 1], [0, 1, 0], [0, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(get_label_matrix(ds), expected)
    assert ds.get_data_info(1)['img_path'].endswith('images/b.png')


def test_labels_alphabetical_order(coco_dir):
    ds = build(coco_dir, drop_empty=False, class_order='alphabetical')
    assert ds.metainfo['classes'] == ('apple', 'mouse', 'zebra')
    assert ds.metainfo['category_ids'] == (5, 3, 1)
    expected = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(get_label_matrix(ds), expected)


def test_drop_empty_and_crowd(coco_dir):
    ds = build(coco_dir)  # drop_empty=True by default
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == \
        [10, 11, 12]
    ds = build(coco_dir, iscrowd='ignore')
    # Image 11 only has a crowd annotation: without it, it is empty.
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == [10, 12]
    ds = build(coco_dir, iscrowd='ignore', drop_empty=False)
    np.testing.assert_array_equal(get_label_matrix(ds)[1], [0, 0, 0])


def test_label_matrix_does_not_decode(coco_dir, monkeypatch):
    ds = build(coco_dir, drop_empty=False)
    monkeypatch.setattr(cv2, 'imdecode', None)  # any decode would crash
    monkeypatch.setattr(cv2, 'imread', None)
    assert get_label_matrix(ds).shape == (4, 3)


def test_sample_through_pipeline(coco_dir):
    ds = build(coco_dir, pipeline=[dict(type='LoadImageFromFile'),
                                   dict(type='PackInputs')])
    sample = ds[0]
    assert tuple(sample['inputs'].shape) == (3, 8, 8)
    assert sorted(sample['data_samples'].gt_label.tolist()) == [0, 2]


def test_options_validated(coco_dir):
    with pytest.raises(ValueError, match='class_order'):
        build(coco_dir, class_order='random')
    with pytest.raises(ValueError, match='iscrowd'):
        build(coco_dir, iscrowd='maybe')


@pytest.mark.parametrize('overrides, message', [
    (dict(images=None), 'missing the "images" list'),
    (dict(annotations=None), 'missing the "annotations" list'),
    (dict(categories=None), 'missing the "categories" list'),
    (dict(images={'id': 1}), '"images" must be a list'),
    (dict(annotations=ANNOTATIONS + [dict(id=99, image_id=77,
                                          category_id=1)]),
     'annotation 99 points to unknown image id 77'),
    (dict(annotations=ANNOTATIONS + [dict(id=98, image_id=10,
                                          category_id=42)]),
     'annotation 98 points to unknown category id 42'),
    (dict(annotations=[dict(id=1, image_id=10)]), 'has no "category_id"'),
    (dict(images=IMAGES + [dict(id=10, file_name='x.png')]),
     'duplicate id 10 in "images"'),
    (dict(categories=[dict(id=1)]), 'categories\\[0\\] has no "name"'),
    (dict(images=[dict(id=10, file_name='../../outside.png')]),
     'image id 10 has file_name \'../../outside.png\', which leaves the '
     'image folder'),
    (dict(images=[dict(id=10, file_name='a/../../outside.png')]),
     'leaves the image folder'),
    (dict(images=[dict(id=10, file_name='/etc/passwd')]),
     'image id 10 has file_name \'/etc/passwd\', which is an absolute path'),
    (dict(images=[dict(id=10, file_name=7)]),
     'image id 10 has file_name 7, which is of type int, not a string'),
    (dict(images=[dict(id=10, file_name='')]), 'which is empty'),
    (dict(images=[dict(id=10, file_name='a/..')]),
     'names the image folder itself'),
    (dict(images=IMAGES + [dict(id=14, file_name='./a.png')]),
     'images 10 and 14 have the same file'),
    (dict(images=[]), 'the "images" list is empty'),
    (dict(categories=[]), 'the "categories" list is empty'),
    (dict(categories=CATEGORIES + [dict(id=9, name='apple')]),
     'categories 5 and 9 have the same name \'apple\''),
    (dict(categories=[dict(id=1, name=3)]),
     'category id 1 has name 3, which is not a non-empty string'),
    (dict(categories=[dict(id=1, name=' ')]),
     "category id 1 has name ' ', which is not a non-empty string"),
    (dict(images=[dict(id=1.5, file_name='a.png')]),
     'images\\[0\\] has id 1.5: COCO ids are integers'),
    (dict(images=[dict(id=[10], file_name='a.png')]),
     'COCO ids are integers'),
    (dict(categories=[dict(id=True, name='a')]), 'COCO ids are integers'),
    (dict(annotations=[dict(id=1, image_id='10', category_id=1)]),
     'annotation 1 points to unknown image id \'10\''),
    (dict(annotations=[dict(id=1, image_id=10, category_id=1,
                            iscrowd='0')]),
     'annotation 1 has iscrowd \'0\': it must be 0 or 1'),
])
def test_bad_annotations(coco_dir, overrides, message):
    write_json(coco_dir / 'ann.json', **overrides)
    with pytest.raises(CocoAnnotationError, match=message) as info:
        build(coco_dir)
    assert 'ann.json' in str(info.value)


def test_malformed_json(coco_dir):
    (coco_dir / 'ann.json').write_text('{"images": [')
    with pytest.raises(CocoAnnotationError, match='ann.json: malformed json'):
        build(coco_dir)
    (coco_dir / 'ann.json').write_text('[1, 2]')
    with pytest.raises(CocoAnnotationError, match='top level'):
        build(coco_dir)


def test_nan_and_encodings(coco_dir):
    ann = coco_dir / 'ann.json'
    ann.write_text('{"images": [{"id": NaN, "file_name": "a.png"}], '
                   '"annotations": [], '
                   '"categories": [{"id": 1, "name": "x"}]}')
    with pytest.raises(CocoAnnotationError, match='ann.json: holds NaN'):
        build(coco_dir)
    ann.write_text('')
    with pytest.raises(CocoAnnotationError, match='ann.json: malformed json'):
        build(coco_dir)
    text = json.dumps(dict(images=IMAGES, annotations=ANNOTATIONS,
                           categories=CATEGORIES))
    ann.write_bytes(text.encode('utf-16'))
    with pytest.raises(CocoAnnotationError,
                       match='ann.json: not a UTF-8 text file'):
        build(coco_dir)
    # A UTF-8 byte-order mark (Windows editors) is accepted.
    ann.write_bytes(b'\xef\xbb\xbf' + text.encode())
    assert len(build(coco_dir)) == 3


def test_missing_files_named(coco_dir):
    with pytest.raises(FileNotFoundError, match='file not found: .*nope.json'):
        CocoMultiLabel(ann_file='nope.json', data_root=str(coco_dir))
    with pytest.raises(FileNotFoundError,
                       match='its folder .*no_root does not exist'):
        CocoMultiLabel(ann_file='ann.json',
                       data_root=str(coco_dir / 'no_root'))


def test_all_images_dropped(coco_dir):
    write_json(coco_dir / 'ann.json', annotations=[])
    with pytest.raises(CocoAnnotationError,
                       match='none of its 4 images .* drop_empty=False'):
        build(coco_dir)
    assert len(build(coco_dir, drop_empty=False)) == 4


def test_symlinked_image_folder_is_inside(coco_dir, tmp_path_factory):
    # The rule is on the written path: a link inside the data root that
    # points elsewhere (a common layout) is fine.
    elsewhere = tmp_path_factory.mktemp('elsewhere')
    (coco_dir / 'images' / 'a.png').rename(elsewhere / 'a.png')
    (coco_dir / 'images' / 'linked').symlink_to(elsewhere)
    write_json(coco_dir / 'ann.json',
               images=[dict(id=10, file_name='linked/a.png')],
               annotations=ANNOTATIONS[:1])
    ds = build(coco_dir, pipeline=PIPELINE)
    assert tuple(ds[0]['inputs'].shape) == (3, 8, 8)


PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]


def test_missing_image_named_when_loaded(coco_dir):
    (coco_dir / 'images' / 'b.png').unlink()
    ds = build(coco_dir, pipeline=PIPELINE)  # building does not touch images
    ds[0]
    with pytest.raises(ImageLoadError, match='missing: .*images/b.png'):
        ds[1]


def test_undecodable_image_named_when_loaded(coco_dir):
    (coco_dir / 'images' / 'c.png').write_bytes(b'not an image at all')
    ds = build(coco_dir, pipeline=PIPELINE)
    with pytest.raises(ImageLoadError, match='cannot be decoded.*images/c.png'):
        ds[2]


def test_missing_image_folder_named(coco_dir):
    ds = CocoMultiLabel(ann_file='ann.json', data_root=str(coco_dir),
                        data_prefix='imgs', pipeline=PIPELINE)
    with pytest.raises(ImageLoadError,
                       match='folder .*imgs does not exist: check data_root'):
        ds[0]


def test_max_pixels(coco_dir):
    ds = build(coco_dir, pipeline=PIPELINE, max_pixels=63)
    with pytest.raises(ImageTooLargeError,
                       match='images/a.png is 8x8 = 64 pixels, over the '
                       'limit max_pixels=63: raise max_pixels'):
        ds[0]
    assert tuple(build(coco_dir, pipeline=PIPELINE,
                       max_pixels=64)[0]['inputs'].shape) == (3, 8, 8)
    assert build(coco_dir).max_pixels == 50_000_000
    with pytest.raises(ValueError, match='max_pixels must be a positive'):
        build(coco_dir, max_pixels=0)


@pytest.mark.parametrize('content, message', [
    (b'', 'cannot be decoded'),
    (None, 'is a folder, not a file'),
])
def test_empty_image_or_folder_named(coco_dir, content, message):
    path = coco_dir / 'images' / 'b.png'
    path.unlink()
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ImageLoadError, match=f'{message}.*images/b.png'):
        build(coco_dir, pipeline=PIPELINE)[1]


@pytest.mark.parametrize('image', [
    np.full((8, 8), 100, np.uint8),  # grayscale
    np.full((8, 8, 4), 100, np.uint8),  # with alpha
    np.full((8, 8, 3), 100 * 256, np.uint16),  # 16 bits per channel
])
def test_other_pixel_formats_become_bgr_uint8(coco_dir, image):
    cv2.imwrite(str(coco_dir / 'images' / 'a.png'), image)
    inputs = build(coco_dir, pipeline=PIPELINE)[0]['inputs']
    assert tuple(inputs.shape) == (3, 8, 8)
    assert inputs.dtype == torch.uint8 and (inputs == 100).all()


def test_given_classes_must_match_the_json(coco_dir):
    with pytest.raises(ValueError, match='the given classes .* differ from '
                       'the categories of the json'):
        build(coco_dir, metainfo=dict(classes=('zebra', 'apple')))


def test_label_matrix_through_dataset_wrappers(coco_dir):
    from mmengine.dataset import ConcatDataset, RepeatDataset
    ds = build(coco_dir, drop_empty=False)
    single = get_label_matrix(ds)
    np.testing.assert_array_equal(
        get_label_matrix(RepeatDataset(ds, times=2)),
        np.concatenate([single, single]))
    np.testing.assert_array_equal(
        get_label_matrix(ConcatDataset([ds, ds])),
        np.concatenate([single, single]))
