"""The YouTube-8M frame-level dataset: video or segment samples.

The records are read by :mod:`mmcma.datasets.youtube8m_records` (format,
framing, dequantisation). The dataset scans every file once when it is
initialised, reading only record headers and the (small) context of each
record, so building the index and :meth:`YouTube8MDataset.get_label_matrix`
never decode frames. Frames are decoded (and the record CRC checked) when a
sample is loaded.
"""
import csv
import glob
import logging
import os.path as osp
from collections import Counter
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS, TRANSFORMS
from mmpretrain.structures import DataSample

from ..io import InputOptionError, MissingFileError, check_choice
from .files import DataFileError
from .youtube8m_records import (FEATURE_SIZES, SEGMENT_SIZE, decode_frames,
                                dequantize, index_tfrecord, read_record)


def _read_label_subset(label_subset: Union[str, Sequence[int]]) -> np.ndarray:
    """Label indices kept by the dataset, from a list or an ``Index`` CSV."""
    if isinstance(label_subset, str):
        with open(label_subset, newline='') as f:
            reader = csv.DictReader(f)
            if 'Index' not in (reader.fieldnames or ()):
                raise DataFileError(f'{label_subset} has no "Index" column.')
            label_subset = [int(row['Index']) for row in reader]
    subset = np.asarray(label_subset, dtype=np.int64)
    if subset.ndim != 1 or len(subset) == 0 or (subset < 0).any():
        raise InputOptionError('label_subset must be a non-empty list of '
                               'non-negative label indices.')
    if len(np.unique(subset)) != len(subset):
        raise InputOptionError('label_subset has repeated indices.')
    return subset


def _read_vocabulary(path: str, indices: np.ndarray) -> Tuple[str, ...]:
    """Names of ``indices`` from a YouTube-8M vocabulary CSV (Index, Name)."""
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        if not {'Index', 'Name'} <= set(reader.fieldnames or ()):
            raise DataFileError(f'{path} needs "Index" and "Name" columns.')
        names = {int(row['Index']): row['Name'] for row in reader}
    missing = [int(i) for i in indices if int(i) not in names]
    if missing:
        raise DataFileError(f'{path} has no name for labels {missing[:10]}.')
    return tuple(names[int(i)] for i in indices)


@DATASETS.register_module()
class YouTube8MDataset(BaseDataset):
    """YouTube-8M frame-level features, video or segment samples.

    Each sample is a dict with ``feats`` (T, D) float32 (dequantised, see
    :func:`dequantize`), ``num_frames`` T, ``video_id``, ``gt_label`` (label
    indices) and, for segment samples, ``segment_start`` and ``rated_label``;
    :class:`PackYouTube8MInputs` (the default pipeline) turns it into
    ``inputs`` (T, D) and a :class:`DataSample`.

    Label levels:

    - ``'video'``: one sample per record, labels from the context ``labels``;
      the first ``max_frames`` frames (YouTube-8M's reader truncates the same
      way; padding to a batch and the mask are made by
      :class:`~mmcma.models.classifiers.FrameFeaturePreprocessor`).
    - ``'segment'``: one sample per rated segment of a Segments file, i.e. per
      distinct ``segment_start_times`` value, with frames
      ``[start, start + segment_size)``. Positives are the labels rated with
      score 1 (``segment_scores >= 0.5``) for that segment; ``rated_label`` lists every
      label rated for it (positive or negative), as YouTube-8M evaluates only
      rated labels. Metrics in this package treat unrated labels as
      negatives. Records without segment ratings give no segment samples.

    Labels are checked: a negative label, or one ``>= num_classes`` when no
    ``label_subset`` is given, raises ``ValueError`` naming the file and
    record. A file set with no sample raises; an empty file, records without
    video-level labels (e.g. a test partition) and repeated video ids are
    logged as warnings. With ``label_subset`` (e.g. the 1,000-class ``Index`` CSV of
    YouTube-8M Segments) label ``label_subset[i]`` becomes class ``i`` and
    labels outside the subset are dropped.

    Args:
        data_root (str): Directory of the TFRecord files.
        num_classes (int): Size of the label space.
        file_pattern (str): Glob of the files under ``data_root``.
            Defaults to ``'*.tfrecord'``.
        modality (str): ``'rgb'`` (1024-d), ``'audio'`` (128-d) or ``'both'``
            (1152-d). Defaults to ``'rgb'``.
        max_frames (int): Cap on the frames of a video sample.
            Defaults to 300.
        label_level (str): ``'video'`` or ``'segment'``. Defaults to
            ``'video'``.
        segment_size (int): Frames per segment. Defaults to 5.
        label_subset (str | Sequence[int], optional): Label indices to keep,
            or a CSV with an ``Index`` column. Defaults to None.
        vocabulary_file (str, optional): A YouTube-8M ``vocabulary.csv``
            (``Index``, ``Name``, ... columns) giving class names.
            Defaults to None.
        classes (str | Sequence[str], optional): Class names (file or list);
            exclusive with ``vocabulary_file``. Without either, the names are
            the label indices. Defaults to None.
        check_crc (bool): Check every record's CRC while indexing (reads the
            files whole once). Otherwise the index reads only contexts and a
            record's CRC is checked when its sample is loaded, so labels read
            before that (:meth:`get_label_matrix`) could come from a corrupt
            context. Defaults to False.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``test_mode``, ``indices``, ...).
    """

    def __init__(self,
                 data_root: str,
                 num_classes: int,
                 file_pattern: str = '*.tfrecord',
                 modality: str = 'rgb',
                 max_frames: int = 300,
                 label_level: str = 'video',
                 segment_size: int = SEGMENT_SIZE,
                 label_subset: Union[str, Sequence[int], None] = None,
                 vocabulary_file: Optional[str] = None,
                 classes: Union[str, Sequence[str], None] = None,
                 check_crc: bool = False,
                 pipeline: Sequence = (dict(type='PackYouTube8MInputs'), ),
                 **kwargs):
        check_choice('modality', modality, ('rgb', 'audio', 'both'))
        check_choice('label_level', label_level, ('video', 'segment'))
        if max_frames < 1 or segment_size < 1 or int(num_classes) < 1:
            raise InputOptionError(
                'num_classes, max_frames and segment_size must '
                'be positive.')
        self.num_classes = int(num_classes)
        self.check_crc = bool(check_crc)
        self.file_pattern = file_pattern
        self.modality = modality
        self.max_frames = int(max_frames)
        self.label_level = label_level
        self.segment_size = int(segment_size)
        self.label_subset = (None if label_subset is None else
                             _read_label_subset(label_subset))
        if self.label_subset is not None:
            if len(self.label_subset) != self.num_classes:
                raise InputOptionError(
                    f'label_subset has {len(self.label_subset)} labels but '
                    f'num_classes is {self.num_classes}.')
            self._label_map = np.full(
                self.label_subset.max() + 1, -1, dtype=np.int64)
            self._label_map[self.label_subset] = np.arange(self.num_classes)
        original = (np.arange(self.num_classes)
                    if self.label_subset is None else self.label_subset)
        if vocabulary_file is not None:
            if classes is not None:
                raise InputOptionError(
                    'Give either classes or vocabulary_file.')
            classes = _read_vocabulary(vocabulary_file, original)
        elif classes is None:
            classes = tuple(str(i) for i in original)
        super().__init__(
            ann_file='',
            data_root=data_root,
            classes=classes,
            pipeline=pipeline,
            **kwargs)
        if len(self.CLASSES) != self.num_classes:
            raise InputOptionError(f'{len(self.CLASSES)} class names for '
                                   f'num_classes={self.num_classes}.')

    @property
    def feature_dim(self) -> int:
        """Feature size D of a frame for the chosen modality."""
        if self.modality == 'both':
            return sum(FEATURE_SIZES.values())
        return FEATURE_SIZES[self.modality]

    def _map_labels(self, labels: np.ndarray, where: str) -> np.ndarray:
        """Check labels and map them into ``[0, num_classes)``."""
        labels = np.asarray(labels, dtype=np.int64)
        if (labels < 0).any():
            raise DataFileError(
                f'{where}: negative label in {labels.tolist()}.')
        if self.label_subset is None:
            if (labels >= self.num_classes).any():
                raise DataFileError(
                    f'{where}: label {int(labels.max())} is outside the '
                    f'vocabulary (num_classes={self.num_classes}).')
            return labels
        known = labels < len(self._label_map)
        mapped = self._label_map[labels[known]]
        return mapped[mapped >= 0]

    def load_data_list(self) -> List[dict]:
        """Index the files and expand records into samples."""
        paths = sorted(glob.glob(osp.join(self.data_root, self.file_pattern)))
        if not paths:
            nested = glob.glob(
                osp.join(self.data_root, '**', self.file_pattern),
                recursive=True)
            hint = (f' Files below it match, e.g. {nested[0]}: set '
                    "file_pattern (e.g. 'train/*.tfrecord').") if nested \
                else ''
            raise MissingFileError(
                f'No files match {self.file_pattern!r} under '
                f'{self.data_root!r}.{hint}')
        entries = []
        for path in paths:
            found = index_tfrecord(path, check_crc=self.check_crc)
            if not found:
                print_log(f'{path} holds no records.', 'current',
                          logging.WARNING)
            entries.extend(found)
        self._warn_about_records(entries)
        data_list = [s for entry in entries for s in self._samples_of(entry)]
        if not data_list:
            reason = ('none of them has segment ratings (segment_start_times'
                      ', ...): use YouTube-8M Segments files or '
                      "label_level='video'" if entries
                      and self.label_level == 'segment' else
                      'the files hold no records')
            raise DataFileError(
                f'No samples in the {len(paths)} files matching '
                f'{self.file_pattern!r} under {self.data_root!r}'
                f' ({len(entries)} records): {reason}.')
        return data_list

    def _warn_about_records(self, entries: List[dict]) -> None:
        """Log records without video-level labels and repeated video ids."""
        unlabelled = [e for e in entries if len(e['labels']) == 0]
        if unlabelled and self.label_level == 'video':
            first = unlabelled[0]
            print_log(
                f'{len(unlabelled)} of {len(entries)} records have no '
                f'video-level labels (first: {first["file_path"]} record '
                f'{first["record_index"]}): they are videos with no positive '
                'label. Expected only for a test partition.', 'current',
                logging.WARNING)
        repeated = [(i, n) for i, n in Counter(e['video_id']
                                                for e in entries).items()
                    if n > 1]
        if repeated:
            print_log(
                f'{len(repeated)} video ids occur more than once (e.g. '
                f'{repeated[0][0]!r}, {repeated[0][1]} times): is a file '
                'matched twice?', 'current', logging.WARNING)

    def _samples_of(self, entry: dict) -> List[dict]:
        """The samples of one indexed record."""
        where = f'{entry["file_path"]} record {entry["record_index"]}'
        base = dict(
            file_path=entry['file_path'],
            offset=entry['offset'],
            record_index=entry['record_index'],
            video_id=entry['video_id'])
        if self.label_level == 'video':
            labels = np.unique(self._map_labels(entry['labels'], where))
            return [dict(base, gt_label=labels.tolist())]
        if entry['segment_start_times'] is None:
            return []
        starts = entry['segment_start_times']
        if (starts < 0).any():
            raise DataFileError(f'{where}: negative segment start time.')
        samples = []
        for start in np.unique(starts):
            rows = starts == start
            rated = self._map_labels(entry['segment_labels'][rows], where)
            positive = self._map_labels(
                entry['segment_labels'][rows & (entry['segment_scores'] >=
                                                0.5)], where)
            samples.append(
                dict(
                    base,
                    segment_start=int(start),
                    gt_label=np.unique(positive).tolist(),
                    rated_label=np.unique(rated).tolist()))
        return samples

    def load_features(self, data_info: dict) -> np.ndarray:
        """Decode and dequantise the frames of one sample.

        Args:
            data_info (dict): An item of the data list.

        Returns:
            np.ndarray: float32 (T, D) features.
        """
        where = f'{data_info["file_path"]} record {data_info["record_index"]}'
        record = read_record(data_info['file_path'], data_info['offset'],
                             data_info['record_index'])
        codes = decode_frames(record, self.modality, where)
        if 'segment_start' in data_info:
            start = data_info['segment_start']
            if start + self.segment_size > len(codes):
                raise DataFileError(
                    f'{where}: segment [{start}, {start + self.segment_size})'
                    f' exceeds the {len(codes)} frames of the video.')
            codes = codes[start:start + self.segment_size]
        else:
            codes = codes[:self.max_frames]
        return dequantize(codes)

    def prepare_data(self, idx: int) -> dict:
        """Load the sample's frames, then run the pipeline."""
        data_info = self.get_data_info(idx)
        feats = self.load_features(data_info)
        data_info.update(
            feats=feats, num_frames=len(feats), num_classes=self.num_classes)
        return self.pipeline(data_info)

    def get_label_matrix(self) -> np.ndarray:
        """Multi-hot labels of every sample, without decoding frames.

        Returns:
            np.ndarray: uint8 matrix of shape (num_samples, num_classes).
        """
        matrix = np.zeros((len(self), self.num_classes), dtype=np.uint8)
        rows, cols = [], []
        for i in range(len(self)):
            labels = self.get_data_info(i)['gt_label']
            rows.extend([i] * len(labels))
            cols.extend(labels)
        matrix[np.asarray(rows, dtype=np.int64),
               np.asarray(cols, dtype=np.int64)] = 1
        return matrix

    def get_cat_ids(self, idx: int) -> List[int]:
        """Label indices of sample ``idx``."""
        return list(self.get_data_info(idx)['gt_label'])

    def extra_repr(self) -> List[str]:
        """Extra lines for ``repr``."""
        return [
            f'Files: \t{osp.join(self.data_root, self.file_pattern)}',
            f'Modality: \t{self.modality} ({self.feature_dim}-d)',
            f'Label level: \t{self.label_level}',
        ]


@TRANSFORMS.register_module()
class PackYouTube8MInputs(BaseTransform):
    """Pack a YouTube-8M sample into ``inputs`` and a ``DataSample``.

    Required keys: ``feats`` (T, D), ``gt_label``, ``video_id``,
    ``num_frames``, ``num_classes`` (all provided by
    :class:`YouTube8MDataset`). Optional keys ``segment_start`` and
    ``rated_label`` are copied into the data sample's metainfo.
    """

    def transform(self, results: dict) -> dict:
        """Return ``dict(inputs=Tensor (T, D), data_samples=DataSample)``."""
        feats = torch.from_numpy(np.ascontiguousarray(results['feats']))
        metainfo = dict(
            video_id=results['video_id'],
            num_frames=results['num_frames'],
            num_classes=results['num_classes'])
        for key in ('segment_start', 'rated_label'):
            if key in results:
                metainfo[key] = results[key]
        sample = DataSample(metainfo=metainfo).set_gt_label(
            list(results['gt_label']))
        return dict(inputs=feats, data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'
