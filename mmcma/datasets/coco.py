"""COCO instances annotations as a multi-label image classification dataset."""
import contextlib
import io
import json
import os.path as osp
from typing import Callable, List, Optional, Sequence

from mmpretrain.datasets import MultiLabelDataset
from mmpretrain.registry import DATASETS
from pycocotools.coco import COCO

from ..io import check_choice
from .boxes import (BoxAnnotationError, box_sample, clip_to_image,
                    coco_bbox_to_xyxy, coco_image_size)
from .files import DataFileError, read_text, relative_path_problem
from .image_check import NamedImageErrorsMixin


class CocoAnnotationError(DataFileError):
    """An instances json that cannot be read as multi-label annotations."""


def _fail(ann_file: str, message: str):
    raise CocoAnnotationError(f'{ann_file}: {message}')


def _parse_json(ann_file: str):
    """Parse ``ann_file``; NaN and Infinity (Python writes them, json has
    no such values) are refused."""
    try:
        text = read_text(ann_file)
    except DataFileError as e:
        raise CocoAnnotationError(str(e)) from e

    def refuse_constant(name: str):
        _fail(ann_file, f'holds {name}, which json does not allow (a '
              'number is expected where it stands)')

    try:
        return json.loads(text, parse_constant=refuse_constant)
    except json.JSONDecodeError as e:
        _fail(ann_file, f'malformed json ({e})')


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_items(ann_file: str, key: str, items: list,
                 required: Sequence[str]) -> set:
    """Check that each item is an object with ``required`` fields and a
    unique integer id; return the ids."""
    ids = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            _fail(ann_file, f'{key}[{i}] is not an object')
        for field in required:
            if field not in item:
                _fail(ann_file, f'{key}[{i}] has no "{field}"')
        if not _is_int(item['id']):
            _fail(ann_file, f'{key}[{i}] has id {item["id"]!r}: COCO ids '
                  'are integers')
        if item['id'] in ids:
            _fail(ann_file, f'duplicate id {item["id"]} in "{key}"')
        ids.add(item['id'])
    return ids


def _name_problem(name) -> Optional[str]:
    if not isinstance(name, str) or not name.strip():
        return 'is not a non-empty string'
    return None


def _check_unique_field(ann_file: str, key: str, items: list, field: str,
                        problem_of: Callable[[object], Optional[str]],
                        normalize: Callable = lambda value: value) -> None:
    """Each item's ``field`` has no problem and is unique after
    ``normalize``; ``key`` is ``'images'`` or ``'categories'``."""
    what = dict(images='image', categories='category')[key]
    seen = {}
    for item in items:
        value = item[field]
        problem = problem_of(value)
        if problem:
            _fail(ann_file, f'{what} id {item["id"]} has {field} {value!r}, '
                  f'which {problem}')
        norm = normalize(value)
        if norm in seen:
            _fail(ann_file, f'{key} {seen[norm]} and {item["id"]} have the '
                  f'same {field} {value!r}')
        seen[norm] = item['id']


def _check_annotations(ann_file: str, annotations: list, image_ids: set,
                       cat_ids: set) -> None:
    """Each annotation has a unique integer ``id`` (pycocotools indexes
    them) and points to a known image and category; ``iscrowd``, when
    given, is 0 or 1."""
    _check_items(ann_file, 'annotations', annotations,
                 ('id', 'image_id', 'category_id'))
    for ann in annotations:
        ann_id = ann['id']
        for field, known, what in (('image_id', image_ids, 'image'),
                                   ('category_id', cat_ids, 'category')):
            if not _is_int(ann[field]) or ann[field] not in known:
                _fail(ann_file, f'annotation {ann_id} points to unknown '
                      f'{what} id {ann[field]!r}')
        if ann.get('iscrowd', 0) not in (0, 1):
            _fail(ann_file, f'annotation {ann_id} has iscrowd '
                  f'{ann["iscrowd"]!r}: it must be 0 or 1')


def load_coco_json(ann_file: str) -> dict:
    """Read and validate a COCO instances json.

    Checks what multi-label classification relies on: the three top-level
    lists (at least one image and one category), a unique integer ``id`` on
    each image / category, a unique ``file_name`` on each image that stays
    inside the image folder (see :mod:`mmcma.datasets.files`), a unique
    non-empty ``name`` on each category, and that each annotation points to
    a known image and category with ``iscrowd`` 0 or 1.

    Args:
        ann_file (str): Path of the instances json (COCO 2014 or 2017).

    Returns:
        dict: The parsed json.

    Raises:
        FileNotFoundError: if the file does not exist.
        CocoAnnotationError: naming the file and what is wrong.
    """
    data = _parse_json(ann_file)
    if not isinstance(data, dict):
        _fail(ann_file, 'the top level must be a json object with '
              '"images", "annotations" and "categories"')
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            _fail(ann_file, f'missing the "{key}" list')
        if not isinstance(data[key], list):
            _fail(ann_file, f'"{key}" must be a list, got '
                  f'{type(data[key]).__name__}')
    for key in ('images', 'categories'):
        if not data[key]:
            _fail(ann_file, f'the "{key}" list is empty')
    image_ids = _check_items(ann_file, 'images', data['images'],
                             ('id', 'file_name'))
    _check_unique_field(ann_file, 'images', data['images'], 'file_name',
                        relative_path_problem, osp.normpath)
    cat_ids = _check_items(ann_file, 'categories', data['categories'],
                           ('id', 'name'))
    _check_unique_field(ann_file, 'categories', data['categories'], 'name',
                        _name_problem)
    _check_annotations(ann_file, data['annotations'], image_ids, cat_ids)
    return data


@DATASETS.register_module()
class CocoMultiLabel(NamedImageErrorsMixin, MultiLabelDataset):
    """COCO instances annotations read as image-level multi-hot labels.

    An image is positive for a category when at least one of its instance
    annotations has that category. The label matrix of the whole set comes from
    the annotations alone (:func:`mmcma.datasets.get_label_matrix`), no image
    is decoded.

    Args:
        ann_file (str): Instances json, e.g.
            ``annotations/instances_train2014.json``.
        data_root (str): Root joined to ``ann_file`` and ``data_prefix``.
        data_prefix (str | dict): Image folder, e.g. ``'train2014'`` or
            ``dict(img_path='train2014')``.
        class_order (str): ``'coco'`` orders classes by category id (COCO's
            own order); ``'alphabetical'`` sorts them by name, the order of
            ML-GCN's released label files. Stored in ``metainfo['classes']``
            and ``metainfo['category_ids']``.
        drop_empty (bool): Drop images with no (counted) annotation. COCO
            papers keep only labelled images (82,081 of 82,783 train2014);
            defaults to True. With False they stay as all-negative samples.
        iscrowd (str): ``'include'`` counts crowd annotations as positives
            (a crowd of people still shows a person; this is what ML-GCN's
            preprocessing does), ``'ignore'`` skips them.
        max_pixels (float, optional): Largest width x height of an image,
            read from its header before decoding; larger images raise
            :class:`~mmcma.datasets.ImageTooLargeError`. Defaults to
            :data:`~mmcma.datasets.image_check.DEFAULT_MAX_PIXELS` (50 MP);
            None disables the check.
        with_boxes (bool): Also give each sample the boxes of its counted
            annotations (the same ones as its labels) as ``gt_bboxes``
            (K, 4) float32 ``x0, y0, x1, y1`` pixels and their label
            indices as ``gt_bboxes_labels`` (K,) int64
            (:mod:`mmcma.datasets.boxes`). Defaults to False.
        **kwargs: Passed to :class:`mmpretrain.datasets.MultiLabelDataset`
            (``pipeline``, ``test_mode``, ``indices``, ...).
    """

    CLASS_ORDERS = ('coco', 'alphabetical')
    ISCROWD = ('include', 'ignore')

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: str | dict = '',
                 class_order: str = 'coco',
                 drop_empty: bool = True,
                 iscrowd: str = 'include',
                 with_boxes: bool = False,
                 **kwargs):
        check_choice('class_order', class_order, self.CLASS_ORDERS)
        check_choice('iscrowd', iscrowd, self.ISCROWD)
        if isinstance(data_prefix, str):
            data_prefix = dict(img_path=data_prefix)
        self.class_order = class_order
        self.drop_empty = drop_empty
        self.iscrowd = iscrowd
        self.with_boxes = with_boxes
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            **kwargs)

    def _ordered_categories(self, coco: COCO) -> List[dict]:
        cats = [coco.cats[i] for i in sorted(coco.cats)]
        if self.class_order == 'alphabetical':
            cats = sorted(cats, key=lambda c: c['name'])
        return cats

    def load_data_list(self) -> List[dict]:
        """Build one sample per image with its multi-hot label indices."""
        data = load_coco_json(self.ann_file)
        coco = COCO()
        coco.dataset = data
        # pycocotools prints "creating index..." on stdout: nothing to act on.
        with contextlib.redirect_stdout(io.StringIO()):
            coco.createIndex()

        cats = self._ordered_categories(coco)
        names = tuple(c['name'] for c in cats)
        if self._metainfo.get('classes') is not None and \
                tuple(self._metainfo['classes']) != names:
            raise CocoAnnotationError(
                f'{self.ann_file}: the given classes '
                f'{self._metainfo["classes"]}'
                f' differ from the categories of the json {names} (in '
                f'{self.class_order!r} order)')
        self._metainfo['classes'] = names
        self._metainfo['category_ids'] = tuple(c['id'] for c in cats)
        cat_to_label = {c['id']: i for i, c in enumerate(cats)}

        img_prefix = self.data_prefix.get('img_path', '')
        data_list = []
        for img_id in sorted(coco.imgs):
            anns = [
                ann for ann in coco.imgToAnns.get(img_id, [])
                if self.iscrowd == 'include' or not ann.get('iscrowd', 0)
            ]
            labels = {cat_to_label[ann['category_id']] for ann in anns}
            if self.drop_empty and not labels:
                continue
            info = coco.imgs[img_id]
            sample = dict(
                img_path=osp.join(img_prefix, info['file_name']),
                img_id=img_id,
                gt_label=sorted(labels))
            if self.with_boxes:
                sample.update(self._boxes(info, anns, cat_to_label))
            data_list.append(sample)
        if not data_list:
            _fail(self.ann_file, f'none of its {len(coco.imgs)} images has a '
                  'counted annotation and drop_empty=True drops them all; set '
                  'drop_empty=False to keep images without labels')
        return data_list

    def _boxes(self, info: dict, anns: List[dict], cat_to_label: dict):
        """The box keys of an image's sample (:func:`box_sample`), each box
        checked against the image's declared ``width`` and ``height``."""
        size = coco_image_size(info, f'{self.ann_file}: image {info["id"]}')
        boxes, ids = [], []
        for ann in anns:
            if not _is_int(ann.get('id')):
                raise BoxAnnotationError(
                    f'{self.ann_file}: an annotation of image {info["id"]} '
                    f'has id {ann.get("id")!r}: with_boxes needs integer '
                    'annotation ids to name the boxes')
            where = f'{self.ann_file}: annotation {ann["id"]}'
            boxes.append(clip_to_image(
                coco_bbox_to_xyxy(ann.get('bbox'), where), size, where))
            ids.append(ann['id'])
        return box_sample(boxes,
                          [cat_to_label[ann['category_id']] for ann in anns],
                          ids, self.ann_file, size)

    def extra_repr(self) -> List[str]:
        return [
            f'Annotation file: \t{self.ann_file}',
            f'Class order: \t{self.class_order}',
            f'Drop images without labels: \t{self.drop_empty}',
            f'Crowd annotations: \t{self.iscrowd}',
            f'Instance boxes: \t{self.with_boxes}',
        ]
