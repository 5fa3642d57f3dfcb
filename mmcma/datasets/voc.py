"""PASCAL VOC with its annotation files checked (stricter than mmpretrain),
optionally with the objects' boxes."""
import xml.etree.ElementTree as ET
from typing import List

from mmpretrain.datasets import VOC
from mmpretrain.registry import DATASETS

from ..io import InputOptionError, MissingFileError, check_choice
from .boxes import box_sample, voc_bndbox_to_xyxy, voc_image_size
from .files import DataFileError, read_path_list
from .image_check import NamedImageErrorsMixin


@DATASETS.register_module()
class VOCMultiLabel(NamedImageErrorsMixin, VOC):
    """:class:`mmpretrain.datasets.VOC` that refuses bad annotation files.

    Same arguments, layout and samples (``gt_label`` and
    ``gt_label_difficult``) as mmpretrain's ``VOC``, plus ``max_pixels``
    (:class:`~mmcma.datasets.image_check.NamedImageErrorsMixin`) and the
    boxes. Where ``VOC`` silently drops an object whose class name is
    unknown (a typo in a hand-made xml loses a positive label) or fails with
    an ``AttributeError``, this class raises naming the file:

    - the image set is read by :func:`~mmcma.datasets.files.read_path_list`
      (UTF-8, no blank line inside, no id that leaves the image folder, no
      id twice, not empty);
    - an xml that is missing or malformed, an object without ``<name>``, a
      name outside ``metainfo['classes']``, a ``<difficult>`` other than 0
      or 1 raise. A missing ``<difficult>`` counts as 0, as in MMDetection
      (hand-made VOC-style files often leave it out).

    Args:
        with_boxes (bool): Also give each sample its objects' boxes as
            ``gt_bboxes`` ((K, 4) float32 ``x0, y0, x1, y1`` pixel edges:
            VOC's 1-based ``xmin - 1, ymin - 1, xmax, ymax``) and their
            label indices as ``gt_bboxes_labels`` ((K,) int64). Each box is
            checked when the dataset is built
            (:func:`~mmcma.datasets.boxes.voc_bndbox_to_xyxy`: four finite
            numbers, ``xmin <= xmax``, ``ymin <= ymax``, inside the
            ``<size>`` of the xml, which is then required); a bad one raises
            :class:`~mmcma.datasets.BoxAnnotationError` naming the file and
            the object. Defaults to False.
        difficult_boxes (str): ``'ignore'`` (default) leaves the boxes of
            difficult objects out, as their labels are left out of
            ``gt_label`` (a patch on a difficult object is then background
            for the patch classifier); ``'include'`` keeps them as ordinary
            boxes (``gt_label`` is unchanged).
        **kwargs: :class:`mmpretrain.datasets.VOC`'s arguments.
    """

    DIFFICULT_BOXES = ('ignore', 'include')

    def __init__(self,
                 *args,
                 with_boxes: bool = False,
                 difficult_boxes: str = 'ignore',
                 **kwargs):
        check_choice('difficult_boxes', difficult_boxes, self.DIFFICULT_BOXES)
        self.with_boxes = with_boxes
        self.difficult_boxes = difficult_boxes
        super().__init__(*args, **kwargs)

    def _read_annotation(self, img_id: str) -> dict:
        """Labels and difficult labels of one image from its xml, and with
        ``with_boxes`` its boxes."""
        xml_path = self.backend.join_path(self.ann_prefix, f'{img_id}.xml')
        try:
            content = self.backend.get(xml_path)
        except FileNotFoundError as e:
            raise MissingFileError(
                f'annotation file not found: {xml_path} (image {img_id!r} '
                f'of {self.image_set_path})') from e
        try:
            root = ET.fromstring(content)
        except ET.ParseError as e:
            raise DataFileError(f'{xml_path}: malformed xml ({e})') from e
        size = voc_image_size(root, xml_path) if self.with_boxes else None
        labels, difficult = set(), set()
        boxes, box_labels, box_ids = [], [], []
        for k, obj in enumerate(root.findall('object')):
            name = obj.findtext('name')
            if name is None or not name.strip():
                raise DataFileError(f'{xml_path}: object {k} has no <name>')
            name = name.strip()
            if name not in self.class_to_idx:
                raise DataFileError(
                    f'{xml_path}: object {k} has the class {name!r}, which is '
                    f'not one of the {len(self.CLASSES)} classes '
                    f'{list(self.CLASSES)}')
            flag = (obj.findtext('difficult') or '0').strip()
            if flag not in ('0', '1'):
                raise DataFileError(f'{xml_path}: object {k} has <difficult>'
                                    f'{flag}</difficult>: it must be 0 or 1')
            label = self.class_to_idx[name]
            (difficult if flag == '1' else labels).add(label)
            if size is not None and (flag == '0'
                                     or self.difficult_boxes == 'include'):
                boxes.append(voc_bndbox_to_xyxy(
                    obj, size, f'{xml_path}: object {k} ({name})'))
                box_labels.append(label)
                box_ids.append(k)
        sample = dict(gt_label=sorted(labels),
                      gt_label_difficult=sorted(difficult))
        if size is not None:
            sample.update(box_sample(boxes, box_labels, box_ids, xml_path,
                                     size))
        return sample

    def load_data_list(self) -> List[dict]:
        """One sample per id of the image set, labels from the xml files."""
        data_list = []
        for img_id in read_path_list(self.image_set_path):
            sample = dict(img_path=self.backend.join_path(
                self.img_prefix, f'{img_id}.jpg'))
            if self.ann_prefix is not None:
                sample.update(self._read_annotation(img_id))
            elif self.with_boxes:
                raise InputOptionError(
                    f'with_boxes=True needs the annotation folder '
                    f"(data_prefix['ann_path']) of {self.image_set_path}")
            else:
                sample.update(gt_label=None, gt_label_difficult=None)
            data_list.append(sample)
        return data_list

    def extra_repr(self) -> List[str]:
        return super().extra_repr() + [
            f'Instance boxes: \t{self.with_boxes} (difficult: '
            f'{self.difficult_boxes})'
        ]
