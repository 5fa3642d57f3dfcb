"""NUS-WIDE (81 concepts) as a multi-label image classification dataset."""
import os.path as osp
from collections import Counter
from typing import List, Optional

import numpy as np
from mmpretrain.datasets import MultiLabelDataset
from mmpretrain.registry import DATASETS

from ..io import InputOptionError, MissingFileError
from .files import DataFileError, read_lines, read_path_list
from .image_check import NamedImageErrorsMixin


def parse_label_rows(path: str, rows: List[str],
                     num_columns: int) -> np.ndarray:
    """Parse text rows of ``num_columns`` space-separated 0/1 values.

    Args:
        path (str): The file the rows come from, for error messages.
        rows (list[str]): One row per image.
        num_columns (int): Values expected on each row.

    Returns:
        np.ndarray: (len(rows), num_columns) int64 matrix of 0/1.

    Raises:
        DataFileError: naming the file and the first bad line.
    """
    fields = [row.split() for row in rows]
    for i, values in enumerate(fields, start=1):
        if len(values) != num_columns:
            raise DataFileError(
                f'{path}: line {i} has {len(values)} values, expected '
                f'{num_columns} columns (one per concept)')
    text = np.array(fields, dtype=str).reshape(len(rows), num_columns)
    valid = (text == '0') | (text == '1')
    if not valid.all():
        i, j = np.argwhere(~valid)[0]
        raise DataFileError(f'{path}: line {i + 1} holds {str(text[i, j])!r}: '
                            'labels must be 0 or 1')
    return (text == '1').astype(np.int64)


@DATASETS.register_module()
class NUSWIDE(NamedImageErrorsMixin, MultiLabelDataset):
    """NUS-WIDE in its distributed image-list + label-file layout.

    The usual files (paths relative to ``data_root``)::

        Concepts81.txt                           81 concept names, one a line
        ImageList/TrainImagelist.txt             one image path a line
                                                 (``actor\\0001_2124494179.jpg``)
        Groundtruth/TrainTestLabels/Labels_{concept}_Train.txt
                                                 one 0/1 a line, per concept
        Flickr/actor/0001_2124494179.jpg         the images

    Labels come either from ``label_dir`` (one file per concept, named by
    ``label_pattern``) or from ``label_file`` (one line per image with N
    space-separated 0/1 values, e.g. ``Train_Tags81.txt``). Line counts must
    match the image list: a mismatch raises naming the file. Files are UTF-8
    (see :mod:`mmcma.datasets.files`); image paths must stay inside the
    image folder; blank lines are allowed only at the end of a file.

    Args:
        image_list (str): File listing image paths (``\\`` becomes ``/``),
            read by :func:`mmcma.datasets.files.read_path_list`.
        concepts (str): File listing the concept names.
        label_dir (str, optional): Folder of per-concept label files.
        label_pattern (str): File name of a concept's labels in
            ``label_dir``, formatted with ``concept``.
        label_file (str, optional): One matrix file instead of ``label_dir``.
        data_root (str): Root of all paths.
        data_prefix (str | dict): Image folder (e.g. ``'Flickr'``).
        drop_empty (bool): Drop images without any concept, as the papers
            do (150,000 train / 59,347 test images remain). Defaults to True.
        max_pixels (float, optional): Largest width x height of an image,
            checked from its header before decoding; None disables it.
            Defaults to 50 MP (:mod:`mmcma.datasets.image_check`).
        **kwargs: Passed to :class:`mmpretrain.datasets.MultiLabelDataset`.
    """

    def __init__(self,
                 image_list: str,
                 concepts: str,
                 label_dir: Optional[str] = None,
                 label_pattern: str = 'Labels_{concept}_Train.txt',
                 label_file: Optional[str] = None,
                 data_root: str = '',
                 data_prefix: str | dict = '',
                 drop_empty: bool = True,
                 **kwargs):
        if (label_dir is None) == (label_file is None):
            raise InputOptionError(
                'give exactly one of label_dir and label_file')
        if isinstance(data_prefix, str):
            data_prefix = dict(img_path=data_prefix)
        join = (lambda p: p if p is None or osp.isabs(p) or not data_root
                else osp.join(data_root, p))
        self.image_list = join(image_list)
        self.concepts_file = join(concepts)
        self.label_dir = join(label_dir)
        self.label_pattern = label_pattern
        self.label_file = join(label_file)
        self.drop_empty = drop_empty
        super().__init__(ann_file='', data_root=data_root,
                         data_prefix=data_prefix, **kwargs)

    def _label_rows(self, path: str, num_images: int,
                    num_columns: int) -> np.ndarray:
        """The (num_images, num_columns) 0/1 matrix of a label file."""
        rows = read_lines(path)
        if len(rows) != num_images:
            raise DataFileError(f'{path}: {len(rows)} label lines for '
                                f'{num_images} images in {self.image_list}')
        return parse_label_rows(path, rows, num_columns)

    def _label_matrix(self, num_images: int,
                      concepts: List[str]) -> np.ndarray:
        if self.label_file is not None:
            return self._label_rows(self.label_file, num_images,
                                    len(concepts))
        if '://' not in self.label_dir and not osp.isdir(self.label_dir):
            raise MissingFileError(
                f'label folder not found: {self.label_dir}')
        return np.concatenate([
            self._label_rows(
                osp.join(self.label_dir,
                         self.label_pattern.format(concept=concept)),
                num_images, 1) for concept in concepts
        ], axis=1)

    def load_data_list(self) -> List[dict]:
        """One sample per listed image with its concept indices."""
        concepts = read_lines(self.concepts_file)
        if not concepts:
            raise DataFileError(f'{self.concepts_file}: no concept names')
        duplicates = sorted(c for c, n in Counter(concepts).items() if n > 1)
        if duplicates:
            raise DataFileError(f'{self.concepts_file}: duplicate concept '
                                f'names {duplicates}')
        if self._metainfo.get('classes') is None:
            self._metainfo['classes'] = tuple(concepts)
        elif tuple(self._metainfo['classes']) != tuple(concepts):
            raise DataFileError(f'{self.concepts_file}: concepts differ from '
                                'the given classes')
        images = read_path_list(self.image_list)
        matrix = self._label_matrix(len(images), concepts)
        prefix = self.data_prefix.get('img_path', '')
        data_list = [
            dict(img_path=osp.join(prefix, path),
                 gt_label=np.flatnonzero(row).tolist())
            for path, row in zip(images, matrix)
            if row.any() or not self.drop_empty
        ]
        if not data_list:
            raise DataFileError(
                f'{self.image_list}: none of its {len(images)} images has a '
                'concept and drop_empty=True drops them all; set '
                'drop_empty=False to keep images without labels')
        return data_list
