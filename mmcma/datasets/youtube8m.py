"""YouTube-8M frame-level features (TFRecord SequenceExamples), no TensorFlow.

File format (YouTube-8M frame-level and its Segments extension): every record
of a ``*.tfrecord`` file is a ``tf.train.SequenceExample`` with

- context ``id`` (bytes) and ``labels`` (int64 list, video-level labels);
- Segments files only: context ``segment_start_times`` (int64),
  ``segment_labels`` (int64) and ``segment_scores`` (float), one entry per
  rated (segment, label) pair; a segment covers ``segment_size`` = 5 frames;
- feature lists ``rgb`` (one 1024-byte feature per second) and ``audio``
  (one 128-byte feature per second), 8-bit quantised over [-2, 2].

Records are framed as TFRecord: ``uint64 length``, ``uint32 masked CRC32-C of
the length``, the serialised proto, ``uint32 masked CRC32-C of the proto``. The
protos come from the ``tfrecord`` package (``tfrecord.example_pb2``), whose
writer produces the same framing.

Index: the dataset scans every file once when it is initialised, reading only
record headers and the (small) context of each record and seeking past the
frame features, so building the index and :meth:`get_label_matrix` never
decode frames. Frames are decoded (and the record CRC checked) when a sample
is loaded.
"""
import csv
import glob
import os
import os.path as osp
import struct
from typing import BinaryIO, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from google.protobuf.message import DecodeError
from mmcv.transforms import BaseTransform
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS, TRANSFORMS
from mmpretrain.structures import DataSample
from tfrecord import example_pb2
from tfrecord.writer import TFRecordWriter

#: Bytes per frame of each YouTube-8M frame-level modality.
FEATURE_SIZES = {'rgb': 1024, 'audio': 128}
#: Range over which YouTube-8M quantises features to 8 bits.
QUANT_MIN, QUANT_MAX = -2.0, 2.0
#: Frames per rated segment in YouTube-8M Segments.
SEGMENT_SIZE = 5

_HEADER_BYTES = 12  # uint64 length + uint32 CRC of the length
_FOOTER_BYTES = 4  # uint32 CRC of the data


def _quantization(max_value: float, min_value: float) -> Tuple[float, float]:
    """(scale, bias) of YouTube-8M's 8-bit codes over [min, max]."""
    if max_value <= min_value:
        raise ValueError(
            'max_quantized_value must exceed min_quantized_value.')
    quant_range = max_value - min_value
    return quant_range / 255.0, quant_range / 512.0 + min_value


def dequantize(quantized: np.ndarray,
               max_quantized_value: float = QUANT_MAX,
               min_quantized_value: float = QUANT_MIN) -> np.ndarray:
    """Map 8-bit codes back to floats, exactly as YouTube-8M's reader does.

    YouTube-8M's ``utils.Dequantize`` computes
    ``x = q * range / 255 + range / 512 + min`` with
    ``range = max - min``: code 0 maps to ``min + range / 512`` (about half a
    bin above ``min``; a bin is ``range / 255`` wide) and code 255 to
    ``max + range / 512``. With the default [-2, 2]:
    ``x = q * 4 / 255 - 2 + 1 / 128``.

    Args:
        quantized (np.ndarray): uint8 codes, any shape.
        max_quantized_value (float): Upper end of the quantisation range.
        min_quantized_value (float): Lower end of the quantisation range.

    Returns:
        np.ndarray: float32 array of the same shape.
    """
    scalar, bias = _quantization(max_quantized_value, min_quantized_value)
    return (np.asarray(quantized, dtype=np.float32) * np.float32(scalar) +
            np.float32(bias))


def quantize(features: np.ndarray,
             max_quantized_value: float = QUANT_MAX,
             min_quantized_value: float = QUANT_MIN) -> np.ndarray:
    """Inverse of :func:`dequantize`: nearest 8-bit code, clipped to 0..255.

    Args:
        features (np.ndarray): Float features, any shape.
        max_quantized_value (float): Upper end of the quantisation range.
        min_quantized_value (float): Lower end of the quantisation range.

    Returns:
        np.ndarray: uint8 codes of the same shape.
    """
    scalar, bias = _quantization(max_quantized_value, min_quantized_value)
    codes = np.rint((np.asarray(features, dtype=np.float64) - bias) / scalar)
    return np.clip(codes, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------
# TFRecord framing and the SequenceExample wire format
# ---------------------------------------------------------------------------
def _read_varint(buf: bytes, pos: int) -> Tuple[int, int]:
    """Decode a protobuf varint at ``pos``; return ``(value, next_pos)``."""
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ValueError('truncated varint')
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift >= 64:
            raise ValueError('varint longer than 10 bytes')


def split_sequence_example(buf: bytes) -> Tuple[bytes, bytes]:
    """Split a serialised SequenceExample into its two top-level fields.

    Args:
        buf (bytes): A serialised ``tf.train.SequenceExample``.

    Returns:
        tuple[bytes, bytes]: The serialised ``context`` (field 1) and
        ``feature_lists`` (field 2); ``b''`` for a missing field.
    """
    parts = {1: b'', 2: b''}
    pos = 0
    while pos < len(buf):
        tag, pos = _read_varint(buf, pos)
        field, wire_type = tag >> 3, tag & 7
        if wire_type == 2:
            size, pos = _read_varint(buf, pos)
            if pos + size > len(buf):
                raise ValueError(f'field {field} runs past the record end')
            if field in parts:
                parts[field] += buf[pos:pos + size]
            pos += size
        elif wire_type == 0:
            _, pos = _read_varint(buf, pos)
        elif wire_type in (1, 5):
            pos += 8 if wire_type == 1 else 4
        else:
            raise ValueError(f'unsupported wire type {wire_type}')
    if pos != len(buf):
        raise ValueError('last field runs past the record end')
    return parts[1], parts[2]


def _record_header(f: BinaryIO, offset: int, file_size: int,
                   where: str) -> int:
    """Read and check the header of the record at ``offset``; return length."""
    header = f.read(_HEADER_BYTES)
    if len(header) != _HEADER_BYTES:
        raise ValueError(f'{where}: truncated record header at byte '
                         f'{offset} (file size {file_size}).')
    length_bytes = header[:8]
    if TFRecordWriter.masked_crc(length_bytes) != header[8:]:
        raise ValueError(f'{where}: corrupt record header at byte {offset} '
                         '(length CRC mismatch).')
    (length, ) = struct.unpack('<Q', length_bytes)
    end = offset + _HEADER_BYTES + length + _FOOTER_BYTES
    if end > file_size:
        raise ValueError(f'{where}: truncated record at byte {offset}: it '
                         f'needs {end} bytes, the file has {file_size}.')
    return length


def _read_context_bytes(f: BinaryIO, length: int) -> bytes:
    """Read the context field of the record whose data starts at ``f``.

    Reads only the context when it is serialised first (as protobuf writers
    do), otherwise the whole record.
    """
    start = f.tell()
    head = f.read(min(length, 16))
    tag, pos = _read_varint(head, 0)
    if tag == (1 << 3 | 2):
        size, pos = _read_varint(head, pos)
        if pos + size > length:
            raise ValueError('context runs past the record end')
        return head[pos:pos + size] + f.read(max(0, size - (len(head) - pos)))
    f.seek(start)
    return split_sequence_example(f.read(length))[0]


def read_record(path: str, offset: int, record_index: int) -> bytes:
    """Read one record's data, checking both CRCs.

    Args:
        path (str): TFRecord file.
        offset (int): Byte offset of the record header.
        record_index (int): Position of the record in the file (for errors).

    Returns:
        bytes: The serialised proto.
    """
    where = f'{path} record {record_index}'
    with open(path, 'rb') as f:
        file_size = os.fstat(f.fileno()).st_size
        f.seek(offset)
        length = _record_header(f, offset, file_size, where)
        data = f.read(length)
        footer = f.read(_FOOTER_BYTES)
    if TFRecordWriter.masked_crc(data) != footer:
        raise ValueError(f'{where}: corrupt record data (CRC mismatch).')
    return data


def _context_list(context: example_pb2.Features, key: str, kind: str,
                  where: str) -> Optional[list]:
    """Values of a context feature, None when absent; checks the kind."""
    if key not in context.feature:
        return None
    feature = context.feature[key]
    present = feature.WhichOneof('kind')
    if present is not None and present != kind:
        raise ValueError(f'{where}: context feature {key!r} is {present}, '
                         f'expected {kind}.')
    return list(getattr(feature, kind).value)


def index_tfrecord(path: str) -> List[dict]:
    """Scan a YouTube-8M TFRecord file without decoding frames.

    Args:
        path (str): TFRecord file.

    Returns:
        list[dict]: One entry per record with ``file_path``, ``offset``
        (byte offset of its header), ``record_index``, ``video_id`` (str),
        ``labels`` (int64 array) and, for Segments files, the arrays
        ``segment_start_times``, ``segment_labels``, ``segment_scores``
        (``None`` otherwise).

    Raises:
        ValueError: A truncated or corrupt record, an undecodable context, a
            missing ``id``, context features of the wrong kind or unequal
            segment field lengths.
    """
    entries = []
    with open(path, 'rb') as f:
        file_size = os.fstat(f.fileno()).st_size
        offset = 0
        while offset < file_size:
            where = f'{path} record {len(entries)}'
            length = _record_header(f, offset, file_size, where)
            context = example_pb2.Features()
            try:
                context.ParseFromString(_read_context_bytes(f, length))
            except (ValueError, DecodeError) as err:
                raise ValueError(f'{where}: cannot decode the context '
                                 f'({err}).') from err
            video_id = _context_list(context, 'id', 'bytes_list', where)
            if not video_id:
                raise ValueError(f'{where}: the context has no "id".')
            labels = _context_list(context, 'labels', 'int64_list', where)
            segments = [
                _context_list(context, key, kind, where)
                for key, kind in (('segment_start_times', 'int64_list'),
                                  ('segment_labels', 'int64_list'),
                                  ('segment_scores', 'float_list'))
            ]
            if any(s is not None for s in segments):
                if any(s is None for s in segments) or len(
                        {len(s) for s in segments}) != 1:
                    raise ValueError(
                        f'{where}: segment_start_times, segment_labels and '
                        'segment_scores must all be present with equal '
                        'lengths.')
                segments = [np.asarray(s) for s in segments]
            entries.append(
                dict(
                    file_path=path,
                    offset=offset,
                    record_index=len(entries),
                    video_id=video_id[0].decode('utf-8', 'replace'),
                    labels=np.asarray(labels or [], dtype=np.int64),
                    segment_start_times=segments[0],
                    segment_labels=segments[1],
                    segment_scores=segments[2]))
            offset += _HEADER_BYTES + length + _FOOTER_BYTES
            f.seek(offset)
    return entries


def decode_frames(record: bytes, modality: str, where: str) -> np.ndarray:
    """Decode the quantised frames of one record.

    Args:
        record (bytes): A serialised SequenceExample.
        modality (str): ``'rgb'``, ``'audio'`` or ``'both'`` (rgb and audio
            concatenated per frame: 1152 bytes).
        where (str): File and record, for error messages.

    Returns:
        np.ndarray: uint8 codes of shape (T, D).
    """
    names = ('rgb', 'audio') if modality == 'both' else (modality, )
    example = example_pb2.SequenceExample()
    try:
        example.ParseFromString(record)
    except DecodeError as err:
        raise ValueError(f'{where}: cannot decode the record ({err}).') \
            from err
    lists = example.feature_lists.feature_list
    parts = []
    for name in names:
        if name not in lists:
            raise ValueError(f'{where}: no {name!r} feature list.')
        size = FEATURE_SIZES[name]
        frames = []
        for t, feature in enumerate(lists[name].feature):
            values = feature.bytes_list.value
            if len(values) != 1 or len(values[0]) != size:
                got = [len(v) for v in values]
                raise ValueError(f'{where}: {name!r} frame {t} must be one '
                                 f'{size}-byte feature, got sizes {got}.')
            frames.append(values[0])
        parts.append(
            np.frombuffer(b''.join(frames), np.uint8).reshape(-1, size))
    if len({len(p) for p in parts}) != 1:
        raise ValueError(f'{where}: rgb has {len(parts[0])} frames but '
                         f'audio has {len(parts[1])}.')
    if len(parts[0]) == 0:
        raise ValueError(f'{where}: the video has no frames.')
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


def _read_label_subset(label_subset: Union[str, Sequence[int]]) -> np.ndarray:
    """Label indices kept by the dataset, from a list or an ``Index`` CSV."""
    if isinstance(label_subset, str):
        with open(label_subset, newline='') as f:
            reader = csv.DictReader(f)
            if 'Index' not in (reader.fieldnames or ()):
                raise ValueError(f'{label_subset} has no "Index" column.')
            label_subset = [int(row['Index']) for row in reader]
    subset = np.asarray(label_subset, dtype=np.int64)
    if subset.ndim != 1 or len(subset) == 0 or (subset < 0).any():
        raise ValueError('label_subset must be a non-empty list of '
                         'non-negative label indices.')
    if len(np.unique(subset)) != len(subset):
        raise ValueError('label_subset has repeated indices.')
    return subset


def _read_vocabulary(path: str, indices: np.ndarray) -> Tuple[str, ...]:
    """Names of ``indices`` from a YouTube-8M vocabulary CSV (Index, Name)."""
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        if not {'Index', 'Name'} <= set(reader.fieldnames or ()):
            raise ValueError(f'{path} needs "Index" and "Name" columns.')
        names = {int(row['Index']): row['Name'] for row in reader}
    missing = [int(i) for i in indices if int(i) not in names]
    if missing:
        raise ValueError(f'{path} has no name for labels {missing[:10]}.')
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
    record. With ``label_subset`` (e.g. the 1,000-class ``Index`` CSV of
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
                 pipeline: Sequence = (dict(type='PackYouTube8MInputs'), ),
                 **kwargs):
        if modality not in ('rgb', 'audio', 'both'):
            raise ValueError(f'modality must be rgb, audio or both, got '
                             f'{modality!r}.')
        if label_level not in ('video', 'segment'):
            raise ValueError(f'label_level must be video or segment, got '
                             f'{label_level!r}.')
        if max_frames < 1 or segment_size < 1:
            raise ValueError('max_frames and segment_size must be positive.')
        self.num_classes = int(num_classes)
        self.file_pattern = file_pattern
        self.modality = modality
        self.max_frames = int(max_frames)
        self.label_level = label_level
        self.segment_size = int(segment_size)
        self.label_subset = (None if label_subset is None else
                             _read_label_subset(label_subset))
        if self.label_subset is not None:
            if len(self.label_subset) != self.num_classes:
                raise ValueError(
                    f'label_subset has {len(self.label_subset)} labels but '
                    f'num_classes is {self.num_classes}.')
            self._label_map = np.full(
                self.label_subset.max() + 1, -1, dtype=np.int64)
            self._label_map[self.label_subset] = np.arange(self.num_classes)
        original = (np.arange(self.num_classes)
                    if self.label_subset is None else self.label_subset)
        if vocabulary_file is not None:
            if classes is not None:
                raise ValueError('Give either classes or vocabulary_file.')
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
            raise ValueError(f'{len(self.CLASSES)} class names for '
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
            raise ValueError(f'{where}: negative label in {labels.tolist()}.')
        if self.label_subset is None:
            if (labels >= self.num_classes).any():
                raise ValueError(
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
            raise FileNotFoundError(
                f'No files match {self.file_pattern!r} under '
                f'{self.data_root!r}.')
        data_list = []
        for path in paths:
            for entry in index_tfrecord(path):
                data_list.extend(self._samples_of(entry))
        return data_list

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
            raise ValueError(f'{where}: negative segment start time.')
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
                raise ValueError(
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
