"""YouTube-8M frame-level TFRecord records: read, check, write; no TensorFlow.

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
writer :func:`write_video_record` uses. :func:`index_tfrecord` reads only the
headers and (small) contexts, seeking past the frames; :func:`read_record`
and :func:`decode_frames` read one record's frames and check its CRC.
"""
import os
import struct
from typing import BinaryIO, Dict, List, Optional, Sequence, Tuple

import numpy as np
from google.protobuf.message import DecodeError
from tfrecord import example_pb2
from tfrecord.writer import TFRecordWriter

from .files import DataFileError
from .youtube8m_quantization import (QUANT_MAX, QUANT_MIN,  # noqa: F401
                                     dequantize, quantize)

#: Bytes per frame of each YouTube-8M frame-level modality.
FEATURE_SIZES = {'rgb': 1024, 'audio': 128}
#: Frames per rated segment in YouTube-8M Segments.
SEGMENT_SIZE = 5
#: Context features of YouTube-8M Segments and their protobuf kinds.
SEGMENT_FIELDS = (('segment_start_times', 'int64_list'),
                  ('segment_labels', 'int64_list'), ('segment_scores',
                                                     'float_list'))
#: The ``tfrecord`` writer's name of each protobuf kind.
_WRITER_KINDS = {'int64_list': 'int', 'float_list': 'float'}

_HEADER_BYTES = 12  # uint64 length + uint32 CRC of the length
_FOOTER_BYTES = 4  # uint32 CRC of the data
_GZIP_MAGIC = b'\x1f\x8b'


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
        raise DataFileError(f'{where}: truncated record header at byte '
                            f'{offset} (file size {file_size}).')
    length_bytes = header[:8]
    if TFRecordWriter.masked_crc(length_bytes) != header[8:]:
        hint = ''
        if offset == 0:
            hint = (' The file is gzip-compressed: decompress it first.'
                    if header.startswith(_GZIP_MAGIC) else
                    ' Is it a TFRecord file?')
        raise DataFileError(f'{where}: corrupt record header at byte {offset} '
                            f'(length CRC mismatch).{hint}')
    (length, ) = struct.unpack('<Q', length_bytes)
    end = offset + _HEADER_BYTES + length + _FOOTER_BYTES
    if end > file_size:
        raise DataFileError(f'{where}: truncated record at byte {offset}: it '
                            f'needs {end} bytes, the file has {file_size}.')
    return length


def _read_checked_data(f: BinaryIO, length: int, where: str) -> bytes:
    """Read the record data that starts at ``f`` and check its CRC."""
    data = f.read(length)
    if TFRecordWriter.masked_crc(data) != f.read(_FOOTER_BYTES):
        raise DataFileError(f'{where}: corrupt record data (CRC mismatch).')
    return data


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
        return _read_checked_data(f, length, where)


# ---------------------------------------------------------------------------
# YouTube-8M records
# ---------------------------------------------------------------------------
def _context_list(context: example_pb2.Features, key: str, kind: str,
                  where: str) -> Optional[list]:
    """Values of a context feature, None when absent; checks the kind."""
    if key not in context.feature:
        return None
    feature = context.feature[key]
    present = feature.WhichOneof('kind')
    if present is not None and present != kind:
        raise DataFileError(f'{where}: context feature {key!r} is {present}, '
                            f'expected {kind}.')
    return list(getattr(feature, kind).value)


def _parse_context(context_bytes: bytes, where: str) -> dict:
    """``video_id``, ``labels`` and the Segments arrays of one context."""
    context = example_pb2.Features()
    try:
        context.ParseFromString(context_bytes)
    except (ValueError, DecodeError) as err:
        raise DataFileError(f'{where}: cannot decode the context ({err}).') \
            from err
    video_id = _context_list(context, 'id', 'bytes_list', where)
    if not video_id:
        raise DataFileError(f'{where}: the context has no "id".')
    labels = _context_list(context, 'labels', 'int64_list', where)
    segments = [
        _context_list(context, key, kind, where)
        for key, kind in SEGMENT_FIELDS
    ]
    if any(s is not None for s in segments):
        if any(s is None for s in segments) or len(
                {len(s) for s in segments}) != 1:
            raise DataFileError(
                f'{where}: segment_start_times, segment_labels and '
                'segment_scores must all be present with equal lengths.')
        segments = [np.asarray(s) for s in segments]
    return dict(
        video_id=video_id[0].decode('utf-8', 'replace'),
        labels=np.asarray(labels or [], dtype=np.int64),
        segment_start_times=segments[0],
        segment_labels=segments[1],
        segment_scores=segments[2])


def index_tfrecord(path: str, check_crc: bool = False) -> List[dict]:
    """Scan a YouTube-8M TFRecord file without decoding frames.

    Args:
        path (str): TFRecord file.
        check_crc (bool): Read every record whole and check its data CRC
            (reads the whole file). Otherwise only the contexts are read and
            a record's data CRC is checked when :func:`read_record` reads
            it. Defaults to False.

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
            data = _read_checked_data(f, length, where) if check_crc else None
            try:
                context_bytes = (split_sequence_example(data)[0] if check_crc
                                 else _read_context_bytes(f, length))
            except ValueError as err:
                raise DataFileError(f'{where}: cannot decode the context '
                                    f'({err}).') from err
            entries.append(
                dict(
                    file_path=path,
                    offset=offset,
                    record_index=len(entries),
                    **_parse_context(context_bytes, where)))
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
        raise DataFileError(f'{where}: cannot decode the record ({err}).') \
            from err
    lists = example.feature_lists.feature_list
    parts = []
    for name in names:
        if name not in lists:
            raise DataFileError(f'{where}: no {name!r} feature list.')
        size = FEATURE_SIZES[name]
        frames = []
        for t, feature in enumerate(lists[name].feature):
            values = feature.bytes_list.value
            if len(values) != 1 or len(values[0]) != size:
                got = [len(v) for v in values]
                raise DataFileError(f'{where}: {name!r} frame {t} must be one '
                                    f'{size}-byte feature, got sizes {got}.')
            frames.append(values[0])
        parts.append(
            np.frombuffer(b''.join(frames), np.uint8).reshape(-1, size))
    if len({len(p) for p in parts}) != 1:
        raise DataFileError(f'{where}: rgb has {len(parts[0])} frames but '
                            f'audio has {len(parts[1])}.')
    if len(parts[0]) == 0:
        raise DataFileError(f'{where}: the video has no frames.')
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


def write_video_record(writer: TFRecordWriter,
                       video_id: str,
                       labels: Sequence[int],
                       frames: Dict[str, np.ndarray],
                       segments: Optional[Sequence[Sequence]] = None) -> None:
    """Write one video as a YouTube-8M SequenceExample.

    The record holds what :func:`index_tfrecord` and :func:`decode_frames`
    read: context ``id``, ``labels`` and, with ``segments``, the Segments
    fields; one feature list per modality.

    Args:
        writer (TFRecordWriter): Open writer of the ``tfrecord`` package.
        video_id (str): Video id.
        labels (Sequence[int]): Video-level labels.
        frames (dict): uint8 codes per modality, ``'rgb'`` (T, 1024) and/or
            ``'audio'`` (T, 128) (see :func:`quantize`).
        segments (Sequence[Sequence], optional): ``(start_times, labels,
            scores)``, three sequences of equal length. Defaults to None (no
            Segments fields).
    """
    context = {
        'id': (video_id.encode(), 'byte'),
        'labels': ([int(x) for x in labels], 'int'),
    }
    if segments is not None:
        segments = [list(s) for s in segments]
        if len(segments) != 3 or len({len(s) for s in segments}) != 1:
            raise ValueError('segments must be (start_times, labels, '
                             'scores) of equal lengths.')
        for (key, kind), values in zip(SEGMENT_FIELDS, segments):
            context[key] = (values, _WRITER_KINDS[kind])
    sequence = {}
    for name, codes in frames.items():
        codes = np.asarray(codes)
        if (name not in FEATURE_SIZES or codes.dtype != np.uint8
                or codes.shape[1:] != (FEATURE_SIZES.get(name), )):
            raise ValueError(f'frames[{name!r}] must be uint8 codes of shape '
                             f'(T, {FEATURE_SIZES.get(name)}) for a '
                             f'modality in {sorted(FEATURE_SIZES)}, got '
                             f'{codes.dtype} {codes.shape}.')
        sequence[name] = ([frame.tobytes() for frame in codes], 'byte')
    writer.write(context, sequence)
