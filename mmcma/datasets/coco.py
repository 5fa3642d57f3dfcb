"""COCO instances annotations as a multi-label image classification dataset."""
import json
import os.path as osp
from typing import List, Sequence

from mmengine.fileio import get_local_path
from mmpretrain.datasets import MultiLabelDataset
from mmpretrain.registry import DATASETS
from pycocotools.coco import COCO

from .image_check import NamedImageErrorsMixin


class CocoAnnotationError(ValueError):
    """An instances json that cannot be read as multi-label annotations."""


def _fail(ann_file: str, message: str):
    raise CocoAnnotationError(f'{ann_file}: {message}')


def load_coco_json(ann_file: str) -> dict:
    """Read and validate a COCO instances json.

    Checks what multi-label classification relies on: the three top-level
    lists, an ``id`` (and ``file_name`` / ``name``) on each image / category,
    unique ids, and that each annotation points to a known image and category.

    Args:
        ann_file (str): Path of the instances json (COCO 2014 or 2017).

    Returns:
        dict: The parsed json.

    Raises:
        CocoAnnotationError: naming the file and what is wrong.
    """
    with get_local_path(ann_file) as local_path:
        try:
            with open(local_path, encoding='utf-8') as f:
                data = json.load(f)
        except json.JSONDecodeError as e:
            _fail(ann_file, f'malformed json ({e})')
        except UnicodeDecodeError as e:
            _fail(ann_file, f'not a UTF-8 text file ({e})')
    if not isinstance(data, dict):
        _fail(ann_file, 'the top level must be a json object with '
              '"images", "annotations" and "categories"')
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            _fail(ann_file, f'missing the "{key}" list')
        if not isinstance(data[key], list):
            _fail(ann_file, f'"{key}" must be a list, got '
                  f'{type(data[key]).__name__}')

    def ids_of(key: str, required: Sequence[str]) -> set:
        ids = set()
        for i, item in enumerate(data[key]):
            if not isinstance(item, dict):
                _fail(ann_file, f'{key}[{i}] is not an object')
            for field in required:
                if field not in item:
                    _fail(ann_file, f'{key}[{i}] has no "{field}"')
            if item['id'] in ids:
                _fail(ann_file, f'duplicate id {item["id"]} in "{key}"')
            ids.add(item['id'])
        return ids

    image_ids = ids_of('images', ('id', 'file_name'))
    cat_ids = ids_of('categories', ('id', 'name'))
    for i, ann in enumerate(data['annotations']):
        if not isinstance(ann, dict):
            _fail(ann_file, f'annotations[{i}] is not an object')
        for field in ('image_id', 'category_id'):
            if field not in ann:
                _fail(ann_file, f'annotations[{i}] has no "{field}"')
        ann_id = ann.get('id', f'#{i}')
        if ann['image_id'] not in image_ids:
            _fail(ann_file, f'annotation {ann_id} points to unknown image id '
                  f'{ann["image_id"]}')
        if ann['category_id'] not in cat_ids:
            _fail(ann_file, f'annotation {ann_id} points to unknown category '
                  f'id {ann["category_id"]}')
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
                 **kwargs):
        if class_order not in self.CLASS_ORDERS:
            raise ValueError(f'class_order must be one of {self.CLASS_ORDERS},'
                             f' got {class_order!r}')
        if iscrowd not in self.ISCROWD:
            raise ValueError(
                f'iscrowd must be one of {self.ISCROWD}, got {iscrowd!r}')
        if isinstance(data_prefix, str):
            data_prefix = dict(img_path=data_prefix)
        self.class_order = class_order
        self.drop_empty = drop_empty
        self.iscrowd = iscrowd
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
        coco.createIndex()

        cats = self._ordered_categories(coco)
        names = tuple(c['name'] for c in cats)
        if self._metainfo.get('classes') is not None and \
                tuple(self._metainfo['classes']) != names:
            raise ValueError(
                f'{self.ann_file}: the given classes {self._metainfo["classes"]}'
                f' differ from the categories of the json {names} (in '
                f'{self.class_order!r} order)')
        self._metainfo['classes'] = names
        self._metainfo['category_ids'] = tuple(c['id'] for c in cats)
        cat_to_label = {c['id']: i for i, c in enumerate(cats)}

        img_prefix = self.data_prefix.get('img_path', '')
        data_list = []
        for img_id in sorted(coco.imgs):
            labels = {
                cat_to_label[ann['category_id']]
                for ann in coco.imgToAnns.get(img_id, [])
                if self.iscrowd == 'include' or not ann.get('iscrowd', 0)
            }
            if self.drop_empty and not labels:
                continue
            info = coco.imgs[img_id]
            data_list.append(
                dict(
                    img_path=osp.join(img_prefix, info['file_name']),
                    img_id=img_id,
                    gt_label=sorted(labels)))
        return data_list

    def extra_repr(self) -> List[str]:
        return [
            f'Annotation file: \t{self.ann_file}',
            f'Class order: \t{self.class_order}',
            f'Drop images without labels: \t{self.drop_empty}',
            f'Crowd annotations: \t{self.iscrowd}',
        ]
