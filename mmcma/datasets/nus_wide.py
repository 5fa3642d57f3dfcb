"""NUS-WIDE (81 concepts) as a multi-label image classification dataset."""
import os.path as osp
from typing import List, Optional

import numpy as np
from mmengine.fileio import get_local_path
from mmpretrain.datasets import MultiLabelDataset
from mmpretrain.registry import DATASETS

from .image_check import NamedImageErrorsMixin


def _read_lines(path: str) -> List[str]:
    with get_local_path(path) as local:
        with open(local, encoding='utf-8') as f:
            return [line.strip() for line in f if line.strip()]


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
    match the image list: a mismatch raises naming the file.

    Args:
        image_list (str): File listing image paths (``\\`` becomes ``/``).
        concepts (str): File listing the concept names.
        label_dir (str, optional): Folder of per-concept label files.
        label_pattern (str): File name of a concept's labels in
            ``label_dir``, formatted with ``concept``.
        label_file (str, optional): One matrix file instead of ``label_dir``.
        data_root (str): Root of all paths.
        data_prefix (str | dict): Image folder (e.g. ``'Flickr'``).
        drop_empty (bool): Drop images without any concept, as the papers
            do (150,000 train / 59,347 test images remain). Defaults to True.
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
            raise ValueError('give exactly one of label_dir and label_file')
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

    def _label_matrix(self, num_images: int, concepts: List[str]):
        if self.label_file is not None:
            rows = _read_lines(self.label_file)
            if len(rows) != num_images:
                raise ValueError(
                    f'{self.label_file}: {len(rows)} label lines for '
                    f'{num_images} images in {self.image_list}')
            try:
                matrix = np.array([r.split() for r in rows], dtype=np.int64)
            except ValueError as e:
                raise ValueError(f'{self.label_file}: rows must hold '
                                 f'{len(concepts)} integers each') from e
            if matrix.ndim != 2 or matrix.shape[1] != len(concepts):
                raise ValueError(f'{self.label_file}: expected '
                                 f'{len(concepts)} columns per line')
            source = self.label_file
        else:
            columns = []
            for concept in concepts:
                path = osp.join(self.label_dir,
                                self.label_pattern.format(concept=concept))
                values = _read_lines(path)
                if len(values) != num_images:
                    raise ValueError(
                        f'{path}: {len(values)} lines for {num_images} images '
                        f'in {self.image_list}')
                try:
                    columns.append(np.array(values, dtype=np.int64))
                except ValueError as e:
                    raise ValueError(f'{path}: lines must be 0 or 1') from e
            matrix = np.stack(columns, axis=1)
            source = self.label_dir
        if not np.isin(matrix, (0, 1)).all():
            raise ValueError(f'{source}: labels must be 0 or 1')
        return matrix

    def load_data_list(self) -> List[dict]:
        """One sample per listed image with its concept indices."""
        concepts = _read_lines(self.concepts_file)
        if len(set(concepts)) != len(concepts):
            raise ValueError(f'{self.concepts_file}: duplicate concept names')
        if self._metainfo.get('classes') is None:
            self._metainfo['classes'] = tuple(concepts)
        elif tuple(self._metainfo['classes']) != tuple(concepts):
            raise ValueError(f'{self.concepts_file}: concepts differ from '
                             'the given classes')
        images = [p.replace('\\', '/') for p in _read_lines(self.image_list)]
        matrix = self._label_matrix(len(images), concepts)
        prefix = self.data_prefix.get('img_path', '')
        return [
            dict(img_path=osp.join(prefix, path),
                 gt_label=np.flatnonzero(row).tolist())
            for path, row in zip(images, matrix)
            if row.any() or not self.drop_empty
        ]
