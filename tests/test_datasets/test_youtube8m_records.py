"""YouTube-8M records: the writer, and bad inputs a new user may hand over."""
import gzip

import numpy as np
import pytest
from tfrecord.reader import sequence_loader
from tfrecord.writer import TFRecordWriter

from mmcma.datasets import youtube8m
from mmcma.datasets.youtube8m import YouTube8MDataset
from mmcma.datasets.youtube8m_records import (decode_frames, index_tfrecord,
                                              read_record, write_video_record)


def _write(path, records):
    """Write SequenceExamples given as (context, sequence) datum pairs."""
    writer = TFRecordWriter(str(path))
    for context, sequence in records:
        writer.write(context, sequence)
    writer.close()


def _record(video_id=b'ab', labels=(1, ), frames=3, audio_frames=None,
            **context):
    """A raw record; ``context`` adds (values, kind) context features."""
    audio_frames = frames if audio_frames is None else audio_frames
    return (dict({
        'id': (video_id, 'byte'),
        'labels': (list(labels), 'int')
    }, **context), {
        'rgb': ([bytes(1024)] * frames, 'byte'),
        'audio': ([bytes(128)] * audio_frames, 'byte')
    })


def _segments(starts, labels, scores):
    return dict(
        segment_start_times=(list(starts), 'int'),
        segment_labels=(list(labels), 'int'),
        segment_scores=(list(scores), 'float'))


def _dataset(root, **kwargs):
    kwargs.setdefault('num_classes', 4)
    return YouTube8MDataset(data_root=str(root), **kwargs)


@pytest.fixture
def logged(monkeypatch):
    """Messages the dataset logs."""
    messages = []
    monkeypatch.setattr(youtube8m, 'print_log',
                        lambda msg, *args, **kwargs: messages.append(msg))
    return messages


def test_write_video_record_matches_tfrecord_reader(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (4, 1024), dtype=np.uint8)
    audio = rng.integers(0, 256, (4, 128), dtype=np.uint8)
    path = str(tmp_path / 'a.tfrecord')
    writer = TFRecordWriter(path)
    write_video_record(writer, 'vid', [3, 1], dict(rgb=rgb, audio=audio),
                       ([0, 0], [3, 1], [1.0, 0.0]))
    write_video_record(writer, 'w', [], dict(rgb=rgb[:2]))
    writer.close()

    (ctx, feats), (ctx2, feats2) = sequence_loader(path, None)
    assert ctx['id'] == b'vid' and ctx['labels'].tolist() == [3, 1]
    assert ctx['segment_scores'].tolist() == [1.0, 0.0]
    np.testing.assert_array_equal(
        np.stack([np.frombuffer(f, np.uint8) for f in feats['audio']]),
        audio)
    assert 'segment_labels' not in ctx2 and 'audio' not in feats2

    first, second = index_tfrecord(path)
    assert first['segment_labels'].tolist() == [3, 1]
    assert second['segment_labels'] is None and second['video_id'] == 'w'
    both = decode_frames(read_record(path, first['offset'], 0), 'both', '')
    np.testing.assert_array_equal(both, np.concatenate([rgb, audio], 1))


def test_write_video_record_rejects_bad_frames(tmp_path):
    writer = TFRecordWriter(str(tmp_path / 'a.tfrecord'))
    with pytest.raises(ValueError, match=r"frames\['rgb'\] must be uint8 "
                       r'codes of shape \(T, 1024\)'):
        write_video_record(writer, 'v', [0],
                           dict(rgb=np.zeros((2, 1000), np.uint8)))
    with pytest.raises(ValueError, match='uint8'):
        write_video_record(writer, 'v', [0],
                           dict(rgb=np.zeros((2, 1024), np.float32)))
    with pytest.raises(ValueError, match='modality in'):
        write_video_record(writer, 'v', [0],
                           dict(flow=np.zeros((2, 1024), np.uint8)))
    with pytest.raises(ValueError, match='equal lengths'):
        write_video_record(writer, 'v', [0],
                           dict(rgb=np.zeros((2, 1024), np.uint8)),
                           ([0], [0, 1], [1.0]))
    writer.close()


def test_empty_files(tmp_path, logged):
    (tmp_path / 'a.tfrecord').write_bytes(b'')
    with pytest.raises(ValueError, match=r'No samples in the 1 files .* \(0 '
                       r'records\): the files hold no records'):
        _dataset(tmp_path)
    assert logged == [f'{tmp_path / "a.tfrecord"} holds no records.']
    _write(tmp_path / 'b.tfrecord', [_record()])
    assert len(_dataset(tmp_path)) == 1


def test_not_a_tfrecord_file(tmp_path):
    path = tmp_path / 'a.tfrecord'
    _write(path, [_record()])
    path.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(ValueError, match='record 0: corrupt record header at '
                       'byte 0 .* gzip-compressed: decompress it first'):
        _dataset(tmp_path)
    path.write_text('Index,Name\n0,skiing\n')
    with pytest.raises(ValueError, match='Is it a TFRecord file'):
        _dataset(tmp_path)
    path.write_bytes(b'\x01\x02')
    with pytest.raises(ValueError, match=r'record 0: truncated record header '
                       r'at byte 0 \(file size 2\)'):
        _dataset(tmp_path)


def test_trailing_bytes(tmp_path):
    path = tmp_path / 'a.tfrecord'
    _write(path, [_record()])
    size = path.stat().st_size
    path.write_bytes(path.read_bytes() + b'\n')
    with pytest.raises(ValueError, match=f'record 1: truncated record header '
                       f'at byte {size}'):
        _dataset(tmp_path)


def test_files_only_below_data_root(tmp_path):
    (tmp_path / 'train').mkdir()
    _write(tmp_path / 'train' / 'a.tfrecord', [_record()])
    with pytest.raises(FileNotFoundError, match="Files below it match, e.g. "
                       ".*train/a.tfrecord: set file_pattern"):
        _dataset(tmp_path)


def test_segment_level_without_ratings(tmp_path):
    _write(tmp_path / 'a.tfrecord', [_record(), _record(video_id=b'c')])
    with pytest.raises(ValueError, match=r'\(2 records\): none of them has '
                       "segment ratings .* label_level='video'"):
        _dataset(tmp_path, label_level='segment')


def test_bad_frames(tmp_path):
    _write(tmp_path / 'a.tfrecord', [
        _record(frames=0),
        _record(video_id=b'c', audio_frames=2),
        ({'id': (b'd', 'byte')}, {'rgb': ([bytes(1024)] * 3, 'byte')}),
        _record(video_id=b'e', audio_frames=0),
    ])
    rgb, audio = _dataset(tmp_path), _dataset(tmp_path, modality='audio')
    both = _dataset(tmp_path, modality='both')
    with pytest.raises(ValueError, match='record 0: the video has no frames'):
        rgb[0]
    with pytest.raises(ValueError,
                       match='record 1: rgb has 3 frames but audio has 2'):
        both[1]
    with pytest.raises(ValueError, match="record 2: no 'audio' feature list"):
        audio[2]
    with pytest.raises(ValueError, match='record 3: rgb has 3 frames but '
                       'audio has 0'):
        both[3]
    # Only the chosen modality is read: rgb alone of record 1 loads.
    assert rgb[1]['inputs'].shape == (3, 1024)


def test_bad_context(tmp_path):
    path = tmp_path / 'a.tfrecord'
    context, sequence = _record()
    context['labels'] = ([1.0], 'float')
    _write(path, [_record(), (context, sequence)])
    with pytest.raises(ValueError, match="record 1: context feature 'labels' "
                       'is float_list, expected int64_list'):
        _dataset(tmp_path)
    _write(path, [_record(**_segments([0, 5], [1], [1.0]))])
    with pytest.raises(ValueError, match='record 0: segment_start_times, '
                       'segment_labels and segment_scores must all be present'):
        _dataset(tmp_path, label_level='segment')
    _write(path, [_record(**_segments([-5], [1], [1.0]))])
    with pytest.raises(ValueError, match='record 0: negative segment start'):
        _dataset(tmp_path, label_level='segment')
    _write(path, [_record(**_segments([0], [9], [0.0]))])
    with pytest.raises(ValueError, match=r'record 0: label 9 is outside the '
                       r'vocabulary \(num_classes=4\)'):
        _dataset(tmp_path, label_level='segment')


def test_segment_past_the_video_end(tmp_path):
    _write(tmp_path / 'a.tfrecord',
           [_record(frames=7, **_segments([0, 5], [1, 2], [1.0, 1.0]))])
    ds = _dataset(tmp_path, label_level='segment')
    assert ds[0]['data_samples'].gt_label.tolist() == [1]
    with pytest.raises(ValueError, match=r'record 0: segment \[5, 10\) '
                       'exceeds the 7 frames of the video'):
        ds[1]


def test_unlabelled_records_and_repeated_ids_warn(tmp_path, logged):
    _write(tmp_path / 'a.tfrecord', [
        _record(video_id=b'x'),
        ({'id': (b'y', 'byte')}, {'rgb': ([bytes(1024)] * 3, 'byte')}),
        _record(video_id=b'z', labels=()),
        _record(video_id=b'x'),
    ])
    ds = _dataset(tmp_path)
    np.testing.assert_array_equal(ds.get_label_matrix()[:, 1], [1, 0, 0, 1])
    assert len(logged) == 2
    assert logged[0].startswith('2 of 4 records have no video-level labels '
                                f'(first: {tmp_path / "a.tfrecord"} record 1)')
    assert logged[1].startswith("1 video ids occur more than once (e.g. 'x', "
                                '2 times)')


def _flip_label(path, old=1, new=3):
    """Change the one video-level label of the record in ``path``."""
    data = bytearray(path.read_bytes())
    # Feature (len 5) > Int64List (len 3) > packed values (len 1) > value.
    key = b'labels\x12\x05\x1a\x03\n\x01' + bytes([old])
    at = data.find(key) + len(key) - 1
    data[at] = new
    path.write_bytes(bytes(data))


def test_corrupt_context_and_check_crc(tmp_path):
    path = tmp_path / 'a.tfrecord'
    _write(path, [_record(labels=(1, ))])
    _flip_label(path)
    # The index reads contexts only: the flipped label gets in, and the
    # record's CRC catches it when the sample is loaded.
    ds = _dataset(tmp_path)
    assert ds.get_label_matrix().tolist() == [[0, 0, 0, 1]]
    with pytest.raises(ValueError, match='record 0: corrupt record data'):
        ds[0]
    with pytest.raises(ValueError, match='record 0: corrupt record data'):
        _dataset(tmp_path, check_crc=True)
    _write(path, [_record(labels=(1, ))])
    assert _dataset(tmp_path, check_crc=True).get_label_matrix().tolist() \
        == [[0, 1, 0, 0]]


def test_bad_label_files_and_sizes(tmp_path):
    _write(tmp_path / 'a.tfrecord', [_record()])
    with pytest.raises(ValueError, match='num_classes, max_frames and '
                       'segment_size must be positive'):
        _dataset(tmp_path, num_classes=0)
    (tmp_path / 'subset.csv').write_text('Name\nsnow\n')
    with pytest.raises(ValueError, match='subset.csv has no "Index" column'):
        _dataset(tmp_path, num_classes=1, label_subset=str(tmp_path /
                                                           'subset.csv'))
    (tmp_path / 'vocabulary.csv').write_text('Index,Name\n0,a\n1,b\n')
    with pytest.raises(ValueError, match=r'vocabulary.csv has no name for '
                       r'labels \[2, 3\]'):
        _dataset(tmp_path, vocabulary_file=str(tmp_path / 'vocabulary.csv'))
    with pytest.raises(FileNotFoundError, match='missing.csv'):
        _dataset(tmp_path, vocabulary_file=str(tmp_path / 'missing.csv'))
