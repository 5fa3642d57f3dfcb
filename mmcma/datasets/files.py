"""Reading the text files of datasets, and the rule for image paths in them.

Annotation files (COCO json, NUS-WIDE lists, VOC image sets) are read as
UTF-8; a leading byte-order mark, which some Windows editors write, is
dropped (it would otherwise become part of the first line). Any other
encoding is an error naming the file.

Image paths written inside annotation files must stay inside the image
folder: absolute paths and paths that climb out with ``..`` are refused, so
that an annotation file cannot make training read arbitrary files. The rule
is on the written path, not on where it resolves: a symlink inside the image
folder (e.g. ``train2014 -> /mnt/coco/train2014``) is fine.
"""
import os.path as osp
from typing import List, Optional

from mmengine.fileio import get_local_path

from ..io import InputFileError, MissingFileError


class DataFileError(InputFileError):
    """A dataset file that cannot be read as the format it should be (an
    :class:`~mmcma.io.InputFileError`, so a ``ValueError``)."""


def read_text(path: str) -> str:
    """Return the content of the UTF-8 text file ``path`` (BOM dropped).

    Args:
        path (str): Local path or any URI that
            :func:`mmengine.fileio.get_local_path` fetches.

    Raises:
        MissingFileError: naming the path, if it does not exist (a
            ``FileNotFoundError``).
        DataFileError: naming the path, if it is not UTF-8 text.
    """
    with get_local_path(path) as local:
        if not osp.isfile(local):
            folder = osp.dirname(local)
            missing = (f' (its folder {folder} does not exist either)'
                       if folder and not osp.isdir(folder) else '')
            raise MissingFileError(f'file not found: {path}{missing}')
        with open(local, 'rb') as f:
            raw = f.read()
    try:
        return raw.decode('utf-8-sig')
    except UnicodeDecodeError as e:
        raise DataFileError(
            f'{path}: not a UTF-8 text file ({e}); re-save it as UTF-8') from e


def read_lines(path: str) -> List[str]:
    """The stripped lines of ``path``; blank lines are allowed only at its end.

    A blank line inside a list would shift every following line against the
    files that must line up with it (labels per image), so it is an error.

    Raises:
        DataFileError: naming the path and the line number of the blank line.
    """
    lines = [line.strip() for line in read_text(path).splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if '' in lines:
        raise DataFileError(f'{path}: line {lines.index("") + 1} is blank '
                            '(only trailing blank lines are allowed)')
    return lines


def relative_path_problem(name) -> Optional[str]:
    """Why ``name`` is not a relative path inside its folder, or None.

    Args:
        name: An image path as written in an annotation file.

    Returns:
        str | None: A phrase such as ``'is an absolute path'``, or None when
        the path is acceptable.
    """
    if not isinstance(name, str):
        return f'is of type {type(name).__name__}, not a string'
    if not name:
        return 'is empty'
    if '\0' in name:
        return 'contains a NUL character'
    if osp.isabs(name):
        return 'is an absolute path (image paths must be relative to ' \
               'the image folder)'
    parts = osp.normpath(name).split(osp.sep)
    if parts[0] == '..':
        return 'leaves the image folder through ".."'
    if parts == ['.']:
        return 'names the image folder itself, not a file'
    return None


def read_path_list(path: str) -> List[str]:
    """The image paths listed in ``path``, one a line, checked.

    ``\\`` is read as a folder separator (NUS-WIDE's lists are written on
    Windows) and becomes ``/``.

    Raises:
        DataFileError: naming the file (and line) of an empty list, a path
            that leaves the image folder (:func:`relative_path_problem`) or
            a path listed twice.
    """
    names = [name.replace('\\', '/') for name in read_lines(path)]
    if not names:
        raise DataFileError(f'{path}: the list is empty')
    first_line = {}
    for i, name in enumerate(names, start=1):
        problem = relative_path_problem(name)
        if problem:
            raise DataFileError(f'{path}: line {i}, {name!r} {problem}')
        key = osp.normpath(name)
        if key in first_line:
            raise DataFileError(f'{path}: lines {first_line[key]} and {i} '
                                f'list the same image {name!r}')
        first_line[key] = i
    return names
