"""Instance boxes through the data pipeline: COCO and VOC annotations, the
geometric transforms (against hand-computed coordinates) and the packing."""
import json

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import CenterCrop, RandomFlip, RandomResize, Resize

from mmcma.datasets import (BoxAnnotationError, BoxRandomResizedCrop,
                            CocoMultiLabel, PackInputsWithBoxes,
                            VOCMultiLabel, coco_bbox_to_xyxy)
from mmcma.datasets.transforms import crop_and_scale_boxes

# Category 7 (zebra) comes before 2 (apple) by name but after it by id.
COCO = dict(
    images=[dict(id=1, file_name='a.png', width=64, height=64),
            dict(id=2, file_name='b.png', width=64, height=64)],
    categories=[dict(id=7, name='zebra'), dict(id=2, name='apple')],
    annotations=[
        dict(id=1, image_id=1, category_id=7, bbox=[10, 20, 30, 40],
             iscrowd=0),
        dict(id=2, image_id=1, category_id=2, bbox=[0, 0, 5.5, 6], iscrowd=1),
        dict(id=3, image_id=2, category_id=2, bbox=[1, 2, 3, 4], iscrowd=0),
    ])


def coco_dataset(tmp_path, annotations=None, **kwargs):
    (tmp_path / 'img').mkdir(exist_ok=True)
    for name in ('a.png', 'b.png'):
        cv2.imwrite(str(tmp_path / 'img' / name), np.zeros((64, 64, 3)))
    data = dict(COCO, annotations=annotations or COCO['annotations'])
    (tmp_path / 'ann.json').write_text(json.dumps(data))
    return CocoMultiLabel(ann_file='ann.json', data_root=str(tmp_path),
                          data_prefix='img', **kwargs)


def test_coco_boxes_xyxy_with_labels_in_class_order(tmp_path):
    ds = coco_dataset(tmp_path, with_boxes=True)
    # Classes in id order: apple (2) -> 0, zebra (7) -> 1.
    first = ds.get_data_info(0)
    np.testing.assert_array_equal(
        first['gt_bboxes'], [[10, 20, 40, 60], [0, 0, 5.5, 6]])
    assert first['gt_bboxes'].dtype == np.float32
    np.testing.assert_array_equal(first['gt_bboxes_labels'], [1, 0])
    assert first['gt_label'] == [0, 1]
    second = ds.get_data_info(1)
    np.testing.assert_array_equal(second['gt_bboxes'], [[1, 2, 4, 6]])


def test_coco_boxes_follow_iscrowd_and_default_off(tmp_path):
    ds = coco_dataset(tmp_path, with_boxes=True, iscrowd='ignore')
    np.testing.assert_array_equal(ds.get_data_info(0)['gt_bboxes'],
                                  [[10, 20, 40, 60]])
    assert 'gt_bboxes' not in coco_dataset(tmp_path).get_data_info(0)


# (NaN never gets here: the json reader refuses it.)
@pytest.mark.parametrize('bbox', [None, [1, 2, 3], [0, 0, -1, 4],
                                  [0, 0, '2', 1], [0, 0, True, 1]])
def test_coco_bad_box_names_the_annotation(tmp_path, bbox):
    anns = [dict(id=9, image_id=1, category_id=7, bbox=bbox, iscrowd=0)]
    if bbox is None:
        del anns[0]['bbox']
    with pytest.raises(BoxAnnotationError, match='ann.json: annotation 9'):
        coco_dataset(tmp_path, annotations=anns, with_boxes=True)
    # Without boxes, the same file loads (labels only).
    assert len(coco_dataset(tmp_path, annotations=anns)) == 1


def test_coco_bbox_to_xyxy():
    assert coco_bbox_to_xyxy([1, 2, 3, 4], 'x') == [1, 2, 4, 6]


def voc_tree(tmp_path, objects, size=b'<size><width>50</width><height>70'
             b'</height><depth>3</depth></size>'):
    """A VOC tree with one image, 000005, whose xml holds ``objects``."""
    for folder in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / 'ImageSets/Main/trainval.txt').write_text('000005\n')
    cv2.imwrite(str(tmp_path / 'JPEGImages/000005.jpg'),
                np.zeros((70, 50, 3), np.uint8))
    (tmp_path / 'Annotations/000005.xml').write_bytes(
        b'<annotation>' + size + objects + b'</annotation>')
    return tmp_path


def voc_object(name, box, difficult=b'0'):
    coords = b''.join(b'<%s>%s</%s>' % (tag, str(v).encode(), tag)
                      for tag, v in zip((b'xmin', b'ymin', b'xmax', b'ymax'),
                                        box))
    return (b'<object><name>%s</name><difficult>%s</difficult><bndbox>%s'
            b'</bndbox></object>' % (name, difficult, coords))


# A dog, a difficult cat, a cat without <difficult> (counts as 0), and a
# dog that fills the whole 50 x 70 image.
VOC_OBJECTS = (voc_object(b'dog', (11, 21, 40, 60)) +
               voc_object(b'cat', (1, 1, 5, 5), b'1') +
               voc_object(b'cat', (2, 3, 4, 9)).replace(
                   b'<difficult>0</difficult>', b'') +
               voc_object(b'dog', (1, 1, 50, 70)))


def voc_dataset(root, **kwargs):
    return VOCMultiLabel(data_root=str(root), split='trainval', **kwargs)


def test_voc_boxes_zero_based_and_difficult(tmp_path):
    ds = voc_dataset(voc_tree(tmp_path, VOC_OBJECTS), with_boxes=True)
    cat, dog = (ds.metainfo['classes'].index(c) for c in ('cat', 'dog'))
    info = ds.get_data_info(0)
    # 1-based inclusive pixels -> edges: xmin - 1, ymin - 1, xmax, ymax.
    np.testing.assert_array_equal(
        info['gt_bboxes'], [[10, 20, 40, 60], [1, 2, 4, 9], [0, 0, 50, 70]])
    assert info['gt_bboxes'].dtype == np.float32
    np.testing.assert_array_equal(info['gt_bboxes_labels'], [dog, cat, dog])
    assert info['gt_label'] == sorted([cat, dog])
    assert info['gt_label_difficult'] == [cat]
    ds = voc_dataset(tmp_path, with_boxes=True, difficult_boxes='include')
    info = ds.get_data_info(0)
    np.testing.assert_array_equal(info['gt_bboxes_labels'],
                                  [dog, cat, cat, dog])
    np.testing.assert_array_equal(info['gt_bboxes'][1], [0, 0, 5, 5])
    assert 'gt_bboxes' not in voc_dataset(tmp_path).get_data_info(0)
    # The boxes reach the model as tensors.
    ds = voc_dataset(tmp_path, with_boxes=True,
                     pipeline=[dict(type='LoadImageFromFile'),
                               dict(type='PackInputsWithBoxes')])
    torch.testing.assert_close(ds[0]['data_samples'].gt_bboxes,
                               torch.tensor([[10., 20., 40., 60.],
                                             [1., 2., 4., 9.],
                                             [0., 0., 50., 70.]]))
    with pytest.raises(ValueError, match='difficult_boxes must be one of'):
        voc_dataset(tmp_path, difficult_boxes='drop')


@pytest.mark.parametrize('box, match', [
    (b'<bndbox><xmin>5</xmin></bndbox>', 'no <bndbox> with numeric'),
    (b'', 'no <bndbox> with numeric'),
    (b'<bndbox><xmin>1O</xmin><ymin>1</ymin><xmax>2</xmax><ymax>3</ymax>'
     b'</bndbox>', 'no <bndbox> with numeric'),
    (voc_object(b'cat', (5, 1, 2, 3)), r'\(5, 1, 2, 3\) has xmin > xmax'),
    (voc_object(b'cat', ('nan', 1, 2, 3)), 'NaN or infinite'),
    (voc_object(b'cat', (0, 1, 2, 3)), 'not inside the 50 x 70 image.*'
     '1-based'),
    (voc_object(b'cat', (1, 1, 51, 3)), 'not inside the 50 x 70 image'),
    (voc_object(b'cat', (1, 1, 2, 71)), 'not inside the 50 x 70 image'),
])
def test_voc_bad_boxes_name_the_file_and_object(tmp_path, box, match):
    if not box.startswith(b'<object>'):
        box = b'<object><name>cat</name>' + box + b'</object>'
    root = voc_tree(tmp_path, voc_object(b'dog', (11, 21, 40, 60)) + box)
    with pytest.raises(BoxAnnotationError,
                       match=f'000005.xml: object 1 \\(cat\\).*{match}'):
        voc_dataset(root, with_boxes=True)
    # Without with_boxes the coordinates are not read.
    voc_dataset(root)


def test_voc_boxes_need_the_annotations(tmp_path):
    root = voc_tree(tmp_path, VOC_OBJECTS)
    (root / 'ImageSets/Main/test.txt').write_text('000005\n')
    with pytest.raises(ValueError, match="with_boxes=True needs the "
                       r"annotation folder \(data_prefix\['ann_path'\]\)"):
        VOCMultiLabel(data_root=str(root), split='test', test_mode=True,
                      data_prefix=dict(img_path='JPEGImages'),
                      with_boxes=True)


@pytest.mark.parametrize('size', [
    b'', b'<size><width>50</width></size>',
    b'<size><width>0</width><height>70</height></size>'
])
def test_voc_boxes_need_the_image_size(tmp_path, size):
    root = voc_tree(tmp_path, VOC_OBJECTS, size=size)
    with pytest.raises(BoxAnnotationError, match='000005.xml: .*<size>'):
        voc_dataset(root, with_boxes=True)
    voc_dataset(root)


def sample(h=20, w=40):
    """An image (h, w) with two boxes."""
    return dict(img=np.zeros((h, w, 3), np.uint8), img_shape=(h, w),
                gt_bboxes=np.array([[0, 0, 10, 5], [30, 10, 40, 20]],
                                   np.float32),
                gt_bboxes_labels=np.array([3, 1]))


def test_mmcv_flip_moves_boxes():
    out = RandomFlip(prob=1.0, direction='horizontal')(sample())
    # x -> 40 - x, corners swap.
    np.testing.assert_array_equal(out['gt_bboxes'],
                                  [[30, 0, 40, 5], [0, 10, 10, 20]])
    out = RandomFlip(prob=1.0, direction='vertical')(sample())
    np.testing.assert_array_equal(out['gt_bboxes'],
                                  [[0, 15, 10, 20], [30, 0, 40, 10]])


def test_mmcv_resize_moves_boxes():
    out = Resize(scale=(80, 10), keep_ratio=False)(sample())  # (w, h)
    np.testing.assert_allclose(out['gt_bboxes'],
                               [[0, 0, 20, 2.5], [60, 5, 80, 10]])
    out = RandomResize(scale=(20, 10), ratio_range=(1.0, 1.0),
                       keep_ratio=False)(sample())
    np.testing.assert_allclose(out['gt_bboxes'],
                               [[0, 0, 5, 2.5], [15, 5, 20, 10]])


def test_mmcv_center_crop_clips_boxes():
    out = CenterCrop(crop_size=(20, 10))(sample())  # (w, h): x 10-30, y 5-15
    np.testing.assert_array_equal(out['gt_bboxes'],
                                  [[0, 0, 0, 0], [20, 5, 20, 10]])


def test_crop_and_scale_boxes_by_hand():
    boxes = np.array([[0, 0, 10, 5], [30, 10, 40, 20], [12, 6, 18, 8]],
                     np.float32)
    # Crop x 10-30 (w 20), y 4-14 (h 10), resized to (h 5, w 40).
    out = crop_and_scale_boxes(boxes, (10, 4, 20, 10), (5, 40))
    np.testing.assert_allclose(
        out, [[0, 0, 0, 0.5], [40, 3, 40, 5], [4, 1, 16, 2]])


def test_box_random_resized_crop_matches_its_image_crop():
    step = BoxRandomResizedCrop(scale=(16, 32), crop_ratio_range=(0.3, 0.6))
    img = np.zeros((20, 40, 3), np.uint8)
    img[5:10, 12:20] = 255  # the box's pixels
    results = dict(img=img, img_shape=(20, 40),
                   gt_bboxes=np.array([[12, 5, 20, 10]], np.float32),
                   gt_bboxes_labels=np.array([0]))
    np.random.seed(3)
    out = step(results)
    top, left, h, w = step._last_crop
    expected = crop_and_scale_boxes(np.array([[12, 5, 20, 10]]),
                                    (left, top, w, h), (16, 32))
    np.testing.assert_allclose(out['gt_bboxes'], expected)
    assert out['img'].shape[:2] == (16, 32)


def test_pack_inputs_with_boxes():
    packed = PackInputsWithBoxes()(dict(sample(), gt_label=[1, 3]))
    ds = packed['data_samples']
    assert ds.gt_bboxes.dtype == torch.float32
    assert ds.gt_bboxes.shape == (2, 4)
    assert ds.gt_bboxes_labels.tolist() == [3, 1]
    assert ds.metainfo['img_shape'] == (20, 40)
    plain = PackInputsWithBoxes()(dict(img=np.zeros((4, 4, 3), np.uint8)))
    assert 'gt_bboxes' not in plain['data_samples']


@pytest.mark.parametrize('change, match', [
    (dict(gt_bboxes_labels=None), 'together'),
    (dict(gt_bboxes=np.zeros((2, 3))), r'\(K, 4\)'),
    (dict(gt_bboxes_labels=np.zeros(3)), r'\(K, 4\)'),
    (dict(gt_bboxes=np.full((2, 4), np.inf)), 'infinite'),
])
def test_pack_inputs_with_bad_boxes(change, match):
    results = dict(sample(), img_path='x.png', **change)
    with pytest.raises(ValueError, match=f'x.png.*{match}'):
        PackInputsWithBoxes()(results)


def test_pack_inputs_refuses_boxes_outside_the_image():
    # Up to one pixel past the border passes (rounding in annotations).
    PackInputsWithBoxes()(dict(sample(), gt_bboxes=np.array(
        [[-1, -1, 41, 21]], np.float32), gt_bboxes_labels=np.array([0])))
    for box in ([0, 0, 41.5, 20], [0, -2, 10, 10], [0, 0, 10, 21.5]):
        results = dict(sample(), img_path='x.png',
                       gt_bboxes=np.array([box], np.float32),
                       gt_bboxes_labels=np.array([0]))
        with pytest.raises(ValueError, match='x.png: gt_bboxes reach outside '
                           'the 40 x 20 image.*BoxRandomResizedCrop'):
            PackInputsWithBoxes()(results)
    # mmpretrain's RandomResizedCrop moves the image alone: caught here.
    from mmpretrain.datasets.transforms import RandomResizedCrop
    np.random.seed(0)
    cropped = RandomResizedCrop(scale=8)(dict(sample(), img_path='x.png'))
    with pytest.raises(ValueError, match='outside the 8 x 8 image'):
        PackInputsWithBoxes()(cropped)


# ------------------------------------------- boxes against the real image
def test_coco_box_checked_against_the_declared_size(tmp_path):
    # Up to one pixel past the 64 x 64 image: clipped to it.
    near = [dict(id=4, image_id=1, category_id=7, bbox=[-0.5, 2, 65, 3])]
    info = coco_dataset(tmp_path, annotations=near,
                        with_boxes=True).get_data_info(0)
    np.testing.assert_array_equal(info['gt_bboxes'], [[0, 2, 64, 5]])
    np.testing.assert_array_equal(info['gt_bboxes_ids'], [4])
    assert info['box_ann_shape'] == (64, 64)
    assert info['box_ann_file'].endswith('ann.json')
    for bbox in ([60, 0, 10, 10], [0, -3, 5, 5], [0, 0, 5, 70]):
        far = [dict(id=9, image_id=1, category_id=7, bbox=bbox)]
        with pytest.raises(BoxAnnotationError,
                           match='ann.json: annotation 9: the box .* '
                           'outside the 64 x 64 image'):
            coco_dataset(tmp_path, annotations=far, with_boxes=True)
        coco_dataset(tmp_path, annotations=far)  # labels only: loads


@pytest.mark.parametrize('size', [{}, dict(width=0, height=8),
                                  dict(width='8', height=8)])
def test_coco_boxes_need_the_image_size(tmp_path, size):
    data = dict(COCO, images=[dict(id=1, file_name='a.png', **size)],
                annotations=COCO['annotations'][:1])
    (tmp_path / 'img').mkdir()
    (tmp_path / 'ann.json').write_text(json.dumps(data))
    with pytest.raises(BoxAnnotationError,
                       match='ann.json: image 1: width .* must be positive'):
        CocoMultiLabel(ann_file='ann.json', data_root=str(tmp_path),
                       data_prefix='img', with_boxes=True)


PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackInputsWithBoxes')]


def test_declared_size_checked_against_the_decoded_image(tmp_path):
    # The xml declares 50 x 70; the image file is 60 x 70.
    root = voc_tree(tmp_path, VOC_OBJECTS)
    cv2.imwrite(str(root / 'JPEGImages/000005.jpg'),
                np.zeros((70, 60, 3), np.uint8))
    ds = voc_dataset(root, with_boxes=True, pipeline=PIPELINE)
    with pytest.raises(BoxAnnotationError,
                       match='000005.xml: declares the image .*000005.jpg '
                       'as 50 x 70, but it decodes to 60 x 70'):
        ds[0]
    # Height and width swapped: the message suggests an EXIF rotation.
    cv2.imwrite(str(root / 'JPEGImages/000005.jpg'),
                np.zeros((50, 70, 3), np.uint8))
    with pytest.raises(BoxAnnotationError, match='EXIF orientation'):
        ds[0]
    # COCO: the same check, before BoxRandomResizedCrop clips anything.
    ds = coco_dataset(tmp_path, with_boxes=True, pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='BoxRandomResizedCrop', scale=32),
        dict(type='PackInputsWithBoxes')])
    ds[0]
    cv2.imwrite(str(tmp_path / 'img' / 'a.png'), np.zeros((32, 64, 3)))
    with pytest.raises(BoxAnnotationError,
                       match='ann.json: declares .*a.png as 64 x 64, but '
                       'it decodes to 64 x 32'):
        ds[0]


class FixedCrop(BoxRandomResizedCrop):
    """The crop top 0, left 0, 10 high, 20 wide."""

    def rand_crop_params(self, img):
        self._last_crop = (0, 0, 10, 20)
        return self._last_crop


def test_crop_drops_and_counts_the_boxes_it_removes():
    results = dict(img=np.zeros((20, 40, 3), np.uint8), img_shape=(20, 40),
                   gt_bboxes=np.array([[0, 0, 10, 5], [30, 10, 40, 20],
                                       [15, 2, 25, 8]], np.float32),
                   gt_bboxes_labels=np.array([3, 1, 2]),
                   gt_bboxes_ids=np.array([7, 8, 9]))
    out = FixedCrop(scale=(10, 20))(results)  # resized to the same size
    # The second box lies outside the crop: dropped with its label and id,
    # counted; the third is clipped to the crop.
    np.testing.assert_array_equal(out['gt_bboxes'],
                                  [[0, 0, 10, 5], [15, 2, 20, 8]])
    assert out['gt_bboxes_labels'].tolist() == [3, 2]
    assert out['gt_bboxes_ids'].tolist() == [7, 9]
    assert out['gt_bboxes_dropped'] == 1
    packed = PackInputsWithBoxes()(out)['data_samples']
    assert packed.metainfo['gt_bboxes_dropped'] == 1
    assert packed.gt_bboxes.shape == (2, 4)


def test_packing_drops_and_counts_empty_boxes():
    # mmcv's CenterCrop clips a box it removes to an empty one.
    # Crop x 10-30, y 5-15: the first two boxes become empty.
    cropped = CenterCrop(crop_size=(20, 10))(dict(
        sample(), gt_bboxes=np.array([[0, 0, 10, 5], [30, 10, 40, 20],
                                      [12, 6, 18, 8]], np.float32),
        gt_bboxes_labels=np.array([3, 1, 2]),
        gt_bboxes_ids=np.array([5, 6, 7])))
    packed = PackInputsWithBoxes()(cropped)['data_samples']
    assert packed.metainfo['gt_bboxes_dropped'] == 2
    np.testing.assert_array_equal(packed.gt_bboxes.numpy(), [[2, 1, 8, 3]])
    assert packed.gt_bboxes_labels.tolist() == [2]
    assert PackInputsWithBoxes()(sample())['data_samples'].metainfo[
        'gt_bboxes_dropped'] == 0


def test_box_outside_the_image_names_its_annotation():
    results = dict(sample(), img_path='x.png',
                   gt_bboxes=np.array([[0, 0, 5, 5], [0, 0, 50, 20]],
                                      np.float32),
                   gt_bboxes_labels=np.array([0, 1]),
                   gt_bboxes_ids=np.array([3, 4]), box_ann_file='ann.json')
    with pytest.raises(ValueError, match='x.png: gt_bboxes reach outside '
                       r'.*ann.json: annotation 4\)'):
        PackInputsWithBoxes()(results)
