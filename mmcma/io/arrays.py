"""Reading ``.npy`` / ``.npz`` files safely: headers checked before any data.

``np.load(path, allow_pickle=False)`` refuses pickles, but it decompresses
each member of an ``.npz`` whole before the caller can look at its shape: a
600 KB compressed file can ask for gigabytes, and an ``.npy`` header can
claim any shape. These readers parse each array's header first (numpy's own
header parser, :mod:`numpy.lib.format`) and refuse, naming the file and the
array, before a byte of data is decompressed, when:

- the array holds Python objects, or another dtype than numbers, booleans
  and strings (:data:`ARRAY_KINDS`);
- its header claims more bytes than the file (member) holds;
- the arrays would take more memory than :func:`max_array_bytes` allows, or
  more than the file's size on disk when that is larger: a plain (stored)
  file costs what it weighs, a compressed one may expand only to the limit.

Every failure is an :class:`~mmcma.io.errors.ArrayFileError` (a
``ValueError``), a missing file a
:class:`~mmcma.io.errors.MissingFileError`.
"""
import os
import os.path as osp
import zipfile
import zlib
from typing import Dict, Iterable, List, Optional, Tuple, Union

import numpy as np
from numpy.lib import format as npy_format

from .errors import ArrayFileError, MissingFileError, TooLargeError

#: Environment variable that raises (or lowers) the decoded-size limit.
MAX_BYTES_ENV = 'MMCMA_MAX_ARRAY_BYTES'
#: Default limit on the decoded size of the arrays read from one compressed
#: file: far above what the project stores (a 3,862-class label state is
#: 240 MB, but written uncompressed, so its size on disk allows it).
DEFAULT_MAX_BYTES = 256 * 2**20
#: dtype kinds an array may have: booleans, integers, floats, complex,
#: strings (no objects, no structured or void records).
ARRAY_KINDS = 'biufcUS'
#: Most arrays one ``.npz`` may hold (the project's files hold under 10).
MAX_MEMBERS = 256
#: Largest ``.npy`` header read (numpy's own default).
MAX_HEADER_BYTES = 10000

_NPY_MAGIC = b'\x93NUMPY'
_ZIP_MAGIC = b'PK'

#: What can go wrong inside the zip and npy parsers on a damaged file.
_READ_ERRORS = (OSError, ValueError, TypeError, EOFError, KeyError,
                zipfile.BadZipFile, zlib.error, NotImplementedError,
                RuntimeError, OverflowError, UnicodeDecodeError)


class ArrayTooLargeError(ArrayFileError, TooLargeError):
    """The arrays of a file would take more memory than allowed."""


def max_array_bytes() -> int:
    """The decoded-size limit: ``$MMCMA_MAX_ARRAY_BYTES`` if set, else
    :data:`DEFAULT_MAX_BYTES`."""
    value = os.environ.get(MAX_BYTES_ENV)
    if value is None:
        return DEFAULT_MAX_BYTES
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit <= 0:
        raise ArrayFileError(f'{MAX_BYTES_ENV}={value!r}: expected a '
                             'positive whole number of bytes')
    return limit


def _header(stream, where: str) -> Tuple[tuple, np.dtype]:
    """``(shape, dtype)`` from an ``.npy`` header, checked for its dtype."""
    version = npy_format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = npy_format.read_array_header_1_0(
            stream, max_header_size=MAX_HEADER_BYTES)
    elif version == (2, 0):
        shape, _, dtype = npy_format.read_array_header_2_0(
            stream, max_header_size=MAX_HEADER_BYTES)
    else:  # 3.0 (utf-8 field names) is only written for structured arrays
        raise ArrayFileError(f'{where}: .npy format version {version} is not '
                             'read (expected 1.0 or 2.0)')
    if dtype.hasobject or dtype.kind not in ARRAY_KINDS or dtype.fields:
        raise ArrayFileError(
            f'{where}: holds {dtype} values (pickled Python objects or '
            'records); expected numbers, booleans or strings')
    return shape, dtype


def _nbytes(shape: tuple, dtype: np.dtype) -> int:
    # Python ints: a crafted shape cannot overflow.
    count = 1
    for side in shape:
        count *= int(side)
    return count * dtype.itemsize


def _check_total(path: str, total: int, name: str) -> None:
    limit = max(max_array_bytes(), osp.getsize(path))
    if total > limit:
        raise ArrayTooLargeError(
            f'{path}: array {name!r} would bring the decoded arrays to '
            f'{total:,} bytes, over the limit of {limit:,} bytes for this '
            f'file (its size on disk, or {MAX_BYTES_ENV}, default '
            f'{DEFAULT_MAX_BYTES:,}, for a compressed file): refused before '
            f'decompressing; set {MAX_BYTES_ENV} to read it if you trust it')


def _require_file(path: str, what: str) -> None:
    if not osp.isfile(path):
        raise MissingFileError(f'{what} not found: {path}')


def npz_members(path: str, what: str = 'array file') -> List[str]:
    """The array names an ``.npz`` holds (members ending in ``.npy``),
    without reading any data."""
    _require_file(path, what)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except _READ_ERRORS as e:
        raise ArrayFileError(f'{path}: not a readable .npz file '
                             f'({type(e).__name__}: {e})') from e
    return [n[:-4] for n in names if n.endswith('.npy')]


def read_npz(path: str, names: Optional[Iterable[str]] = None,
             what: str = 'array file') -> Dict[str, np.ndarray]:
    """The arrays of an ``.npz``, each checked from its header first.

    Args:
        path (str): The file.
        names (Iterable[str], optional): Arrays to read; those the file
            lacks are left out of the result (the caller says what is
            missing). None reads every array.
        what (str): What the file is, for the message of a missing file.

    Returns:
        dict: name -> array, in the order of ``names`` (or of the file).

    Raises:
        MissingFileError: No such file.
        ArrayFileError: Not a zip, a damaged member, an object or record
            array, a header claiming more than its member holds, more than
            :data:`MAX_MEMBERS` arrays, or (:class:`ArrayTooLargeError`)
            arrays over the decoded-size limit; naming the file and array.
    """
    _require_file(path, what)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = {i.filename[:-4]: i for i in archive.infolist()
                     if i.filename.endswith('.npy')}
            wanted = list(infos) if names is None else \
                [n for n in names if n in infos]
            if len(wanted) > MAX_MEMBERS:
                raise ArrayFileError(
                    f'{path}: holds {len(wanted)} arrays, more than the '
                    f'{MAX_MEMBERS} an array file of mmcma may hold')
            total, shapes = 0, {}
            for name in wanted:  # every header before any data
                shapes[name] = _member_header(path, archive, infos[name])
                total += _nbytes(*shapes[name])
                _check_total(path, total, name)
            arrays = {}
            for name in wanted:
                arrays[name] = _read_member(path, archive, infos[name],
                                            shapes[name])
            return arrays
    except ArrayFileError:
        raise
    except _READ_ERRORS as e:
        raise ArrayFileError(f'{path}: not a readable .npz file '
                             f'({type(e).__name__}: {e})') from e


def _member_header(path: str, archive: zipfile.ZipFile,
                   info: zipfile.ZipInfo) -> Tuple[tuple, np.dtype]:
    where = f'{path}: array {info.filename[:-4]!r}'
    try:
        with archive.open(info) as stream:
            shape, dtype = _header(stream, where)
            available = info.file_size - stream.tell()
    except ArrayFileError:
        raise
    except _READ_ERRORS as e:
        raise ArrayFileError(f'{where}: unreadable .npy header '
                             f'({type(e).__name__}: {e})') from e
    if _nbytes(shape, dtype) > available:
        raise ArrayFileError(
            f'{where}: its header says {shape} {dtype} '
            f'({_nbytes(shape, dtype):,} bytes), the file holds '
            f'{max(available, 0):,} bytes of it: truncated or damaged')
    return shape, dtype


def _read_member(path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                 header: Tuple[tuple, np.dtype]) -> np.ndarray:
    where = f'{path}: array {info.filename[:-4]!r}'
    try:
        with archive.open(info) as stream:
            array = npy_format.read_array(
                stream, allow_pickle=False,
                max_header_size=MAX_HEADER_BYTES)
    except _READ_ERRORS as e:
        raise ArrayFileError(f'{where}: unreadable data '
                             f'({type(e).__name__}: {e})') from e
    if (array.shape, array.dtype) != header:  # read twice: must agree
        raise ArrayFileError(f'{where}: changed while it was read')
    return array


def read_npy(path: str, mmap: bool = False,
             what: str = 'array file') -> np.ndarray:
    """An ``.npy`` array, its header checked first (see :func:`read_npz`).

    Args:
        mmap (bool): Map the file read-only instead of reading it (large
            tables of which a few rows are used).
    """
    _require_file(path, what)
    try:
        with open(path, 'rb') as stream:
            shape, dtype = _header(stream, path)
            available = osp.getsize(path) - stream.tell()
        if _nbytes(shape, dtype) > available:
            raise ArrayFileError(
                f'{path}: its header says {shape} {dtype} '
                f'({_nbytes(shape, dtype):,} bytes), the file holds '
                f'{max(available, 0):,} bytes of it: truncated or damaged')
        return np.load(path, mmap_mode='r' if mmap else None,
                       allow_pickle=False, max_header_size=MAX_HEADER_BYTES)
    except ArrayFileError:
        raise
    except _READ_ERRORS as e:
        raise ArrayFileError(f'{path}: not a readable .npy file '
                             f'({type(e).__name__}: {e})') from e


def read_array_file(path: str, names: Optional[Iterable[str]] = None,
                    what: str = 'array file'
                    ) -> Union[np.ndarray, Dict[str, np.ndarray]]:
    """An ``.npy`` array or the arrays of an ``.npz``, told apart by their
    first bytes (not the name): :func:`read_npy` or :func:`read_npz`."""
    _require_file(path, what)
    with open(path, 'rb') as f:
        magic = f.read(len(_NPY_MAGIC))
    if magic.startswith(_NPY_MAGIC):
        return read_npy(path, what=what)
    if magic.startswith(_ZIP_MAGIC):
        return read_npz(path, names, what)
    raise ArrayFileError(f'{path}: neither an .npy nor an .npz file (it '
                         f'starts with {magic!r})')
