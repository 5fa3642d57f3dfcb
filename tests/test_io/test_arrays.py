"""Array files: headers checked before any data is decompressed."""
import io
import os
import tracemalloc
import zipfile

import numpy as np
import pytest

from mmcma.io import (ArrayFileError, ArrayTooLargeError, MissingFileError,
                      read_array_file, read_npy, read_npz)
from mmcma.io.arrays import DEFAULT_MAX_BYTES, MAX_BYTES_ENV
from mmcma.labels import LabelState
from mmcma.labels.knowledge import load_knowledge_graph
from mmcma.labels.vectors.sources import load_embedding_file

#: The bomb of the issue: about 700 MB of float64 zeros.
BOMB_BYTES = 700 * 2**20


def write_bomb(path, name='adjacency', nbytes=BOMB_BYTES, extra=None):
    """An ``.npz`` whose member ``name`` is ``nbytes`` of compressed zeros
    (a 700 MB member compresses to about 0.7 MB), next to ``extra`` arrays
    saved normally."""
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as archive:
        for key, value in (extra or {}).items():
            buffer = io.BytesIO()
            np.save(buffer, value)
            archive.writestr(f'{key}.npy', buffer.getvalue())
        with archive.open(f'{name}.npy', 'w', force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(
                f, dict(descr='<f8', fortran_order=False,
                        shape=(nbytes // 8, )))
            block = bytes(1 << 22)
            for _ in range(nbytes // len(block)):
                f.write(block)
    return str(path)


@pytest.fixture(scope='module')
def bombs(tmp_path_factory):
    """A bomb per member name, next to a small ``classes`` array."""
    folder = tmp_path_factory.mktemp('bomb')
    return {name: write_bomb(folder / f'{name}.npz', name,
                             extra=dict(classes=np.array(['a', 'b'])))
            for name in ('adjacency', 'graph', 'embeddings')}


def traced_peak(read):
    """(exception raised, peak traced bytes) of ``read()``."""
    tracemalloc.start()
    try:
        read()
    except Exception as e:  # noqa: BLE001
        return e, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return None, None


@pytest.mark.slow
def test_bomb_is_small_on_disk(bombs):
    assert os.path.getsize(bombs['adjacency']) < 1_000_000


@pytest.mark.parametrize('member, reader', [
    ('adjacency', read_npz),
    ('graph', LabelState.load),
    ('adjacency', load_knowledge_graph),
    ('embeddings', lambda p: load_embedding_file(p, 2)),
    ('embeddings', read_array_file),
], ids=['read_npz', 'label_state', 'knowledge_graph', 'embedding_file',
        'read_array_file'])
@pytest.mark.slow
def test_bomb_refused_before_decompressing(bombs, member, reader):
    bomb = bombs[member]
    error, peak = traced_peak(lambda: reader(bomb))
    assert isinstance(error, ArrayTooLargeError), error
    message = str(error)
    # 700 MB of the member and 8 bytes of class names.
    assert message.startswith(f"{bomb}: array '{member}' would bring the "
                              f'decoded arrays to {BOMB_BYTES + 8:,} bytes')
    assert MAX_BYTES_ENV in message
    assert peak < 8 * 2**20  # nothing near the 700 MB was allocated


def test_limit_raised_by_the_environment(tmp_path, monkeypatch):
    path = write_bomb(tmp_path / 'small.npz', nbytes=1 << 22)
    monkeypatch.setenv(MAX_BYTES_ENV, str(1 << 20))
    with pytest.raises(ArrayTooLargeError, match='over the limit of '
                       '1,048,576 bytes'):
        read_npz(path)
    monkeypatch.setenv(MAX_BYTES_ENV, str(1 << 23))
    assert read_npz(path)['adjacency'].shape == (1 << 19, )
    monkeypatch.setenv(MAX_BYTES_ENV, 'lots')
    with pytest.raises(ArrayFileError, match=f'{MAX_BYTES_ENV}=\'lots\''):
        read_npz(path)


def test_plain_files_are_limited_by_their_size_only(tmp_path, monkeypatch):
    """An uncompressed file costs what it weighs: a limit below its size
    does not refuse it."""
    path = str(tmp_path / 'plain.npz')
    np.savez(path, a=np.zeros(1 << 18))
    monkeypatch.setenv(MAX_BYTES_ENV, '1000')
    assert read_npz(path)['a'].shape == (1 << 18, )
    assert DEFAULT_MAX_BYTES >= 1 << 20


def test_object_arrays_refused_naming_the_member(tmp_path):
    path = str(tmp_path / 'obj.npz')
    np.savez(path, fine=np.arange(3), bad=np.array([1, None], dtype=object))
    with pytest.raises(ArrayFileError, match=f"{path}: array 'bad': holds "
                       'object values'):
        read_npz(path)
    assert read_npz(path, ['fine'])['fine'].tolist() == [0, 1, 2]
    single = str(tmp_path / 'obj.npy')
    np.save(single, np.array([{}], dtype=object))
    with pytest.raises(ArrayFileError, match=f'{single}: holds object'):
        read_npy(single)
    records = str(tmp_path / 'rec.npy')
    np.save(records, np.zeros(2, dtype=[('x', 'f4')]))
    with pytest.raises(ArrayFileError, match='records'):
        read_npy(records)


def test_header_claiming_more_than_the_file(tmp_path):
    path = str(tmp_path / 'claim.npy')
    with open(path, 'wb') as f:
        np.lib.format.write_array_header_1_0(
            f, dict(descr='<f8', fortran_order=False, shape=(10**12, )))
        f.write(bytes(64))
    error, peak = traced_peak(lambda: read_npy(path))
    assert isinstance(error, ArrayFileError)
    assert str(error).startswith(f'{path}: its header says (1000000000000,) '
                                 'float64')
    assert peak < 2**20
    member = str(tmp_path / 'claim.npz')
    with zipfile.ZipFile(member, 'w') as archive:
        archive.write(path, 'x.npy')
    with pytest.raises(ArrayFileError, match=f"{member}: array 'x': its "
                       'header says'):
        read_npz(member)


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(MissingFileError, match='label state file not found'):
        LabelState.load(str(tmp_path / 'none.npz'))
    text = tmp_path / 'text.npz'
    text.write_text('hello')
    with pytest.raises(ArrayFileError, match=f'{text}: not a readable .npz'):
        read_npz(str(text))
    with pytest.raises(ArrayFileError, match='neither an .npy nor an .npz'):
        read_array_file(str(text))
    cut = tmp_path / 'cut.npz'
    np.savez(str(cut), a=np.arange(1000))
    cut.write_bytes(cut.read_bytes()[:-200])
    with pytest.raises(ArrayFileError, match=f'{cut}: not a readable'):
        read_npz(str(cut))
