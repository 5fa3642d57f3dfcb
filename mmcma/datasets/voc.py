"""PASCAL VOC with its annotation files checked (stricter than mmpretrain)."""
import xml.etree.ElementTree as ET
from typing import List, Tuple

from mmpretrain.datasets import VOC
from mmpretrain.registry import DATASETS

from .files import DataFileError, read_path_list
from .image_check import NamedImageErrorsMixin


@DATASETS.register_module()
class VOCMultiLabel(NamedImageErrorsMixin, VOC):
    """:class:`mmpretrain.datasets.VOC` that refuses bad annotation files.

    Same arguments, layout and samples (``gt_label`` and
    ``gt_label_difficult``) as mmpretrain's ``VOC``, plus ``max_pixels``
    (:class:`~mmcma.datasets.image_check.NamedImageErrorsMixin`). Where
    ``VOC`` silently drops an object whose class name is unknown (a typo in
    a hand-made xml loses a positive label) or fails with an
    ``AttributeError``, this class raises naming the file:

    - the image set is read by :func:`~mmcma.datasets.files.read_path_list`
      (UTF-8, no blank line inside, no id that leaves the image folder, no
      id twice, not empty);
    - an xml that is missing or malformed, an object without ``<name>``, a
      name outside ``metainfo['classes']``, a ``<difficult>`` other than 0
      or 1 raise. A missing ``<difficult>`` counts as 0, as in MMDetection
      (hand-made VOC-style files often leave it out).
    """

    def _get_labels_from_xml(self, img_id: str) -> Tuple[List[int],
                                                          List[int]]:
        """Labels and difficult labels of one image, from its xml."""
        xml_path = self.backend.join_path(self.ann_prefix, f'{img_id}.xml')
        try:
            content = self.backend.get(xml_path)
        except FileNotFoundError as e:
            raise FileNotFoundError(
                f'annotation file not found: {xml_path} (image {img_id!r} '
                f'of {self.image_set_path})') from e
        try:
            root = ET.fromstring(content)
        except ET.ParseError as e:
            raise DataFileError(f'{xml_path}: malformed xml ({e})') from e
        labels, difficult = set(), set()
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
            (difficult if flag == '1' else labels).add(
                self.class_to_idx[name])
        return sorted(labels), sorted(difficult)

    def load_data_list(self) -> List[dict]:
        """One sample per id of the image set, labels from the xml files."""
        data_list = []
        for img_id in read_path_list(self.image_set_path):
            labels = difficult = None
            if self.ann_prefix is not None:
                labels, difficult = self._get_labels_from_xml(img_id)
            data_list.append(
                dict(
                    img_path=self.backend.join_path(self.img_prefix,
                                                    f'{img_id}.jpg'),
                    gt_label=labels,
                    gt_label_difficult=difficult))
        return data_list
