"""Instance boxes through the data pipeline: COCO and VOC annotations, the
geometric transforms (against hand-computed coordinates) and the packing."""
import json

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import CenterCrop, RandomFlip, RandomResize, Resize

from mmcma.datasets import (BoxAnnotationError, BoxRandomResizedCrop,
                            CocoMultiLabel, LoadVOCBoxes,
                            PackInputsWithBoxes, coco_bbox_to_xyxy,
                            parse_voc_boxes)
from mmcma.datasets.transforms import crop_and_scale_boxes

# Category 7 (zebra) comes before 2 (apple) by name but after it by id.
COCO = dict(
    images=[dict(id=1, file_name='a.png'), dict(id=2, file_name='b.png')],
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
        cv2.imwrite(str(tmp_path / 'img' / name), np.zeros((8, 8, 3)))
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


VOC_XML = b"""<annotation>
  <object><name>dog</name><difficult>0</difficult>
    <bndbox><xmin>11</xmin><ymin>21</ymin><xmax>40</xmax><ymax>60</ymax>
    </bndbox></object>
  <object><name>cat</name><difficult>1</difficult>
    <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax>
    </bndbox></object>
  <object><name>cat</name>
    <bndbox><xmin>2</xmin><ymin>3</ymin><xmax>4</xmax><ymax>9</ymax>
    </bndbox></object>
</annotation>"""


def test_voc_boxes_zero_based_and_difficult():
    classes = dict(cat=0, dog=1)
    boxes, labels = parse_voc_boxes(VOC_XML, classes, 'x.xml')
    # 1-based inclusive pixels -> edges: xmin - 1, ymin - 1, xmax, ymax.
    np.testing.assert_array_equal(boxes, [[10, 20, 40, 60], [1, 2, 4, 9]])
    np.testing.assert_array_equal(labels, [1, 0])
    boxes, labels = parse_voc_boxes(VOC_XML, classes, 'x.xml', 'include')
    np.testing.assert_array_equal(labels, [1, 0, 0])
    np.testing.assert_array_equal(boxes[1], [0, 0, 5, 5])


@pytest.mark.parametrize('content, match', [
    (b'<annotation><object>', 'malformed'),
    (b'<annotation><object><name>cow</name></object></annotation>', 'cow'),
    (b'<annotation><object><name>cat</name></object></annotation>',
     'bndbox'),
    (b'<annotation><object><name>cat</name><bndbox><xmin>5</xmin><ymin>1'
     b'</ymin><xmax>2</xmax><ymax>3</ymax></bndbox></object></annotation>',
     'xmin > xmax'),
    (b'<annotation><object><name>cat</name><bndbox><xmin>nan</xmin><ymin>1'
     b'</ymin><xmax>2</xmax><ymax>3</ymax></bndbox></object></annotation>',
     'infinite'),
])
def test_voc_bad_xml_names_the_file(content, match):
    with pytest.raises(BoxAnnotationError, match=f'x.xml.*{match}'):
        parse_voc_boxes(content, dict(cat=0), 'x.xml')


def test_load_voc_boxes_finds_the_xml(tmp_path):
    (tmp_path / 'Annotations').mkdir()
    (tmp_path / 'Annotations' / '000005.xml').write_bytes(VOC_XML)
    step = LoadVOCBoxes(classes=('cat', 'dog'))
    out = step(dict(img_path=str(tmp_path / 'JPEGImages' / '000005.jpg')))
    np.testing.assert_array_equal(out['gt_bboxes_labels'], [1, 0])
    with pytest.raises(BoxAnnotationError, match='not found.*000006.xml'):
        step(dict(img_path=str(tmp_path / 'JPEGImages' / '000006.jpg')))


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
