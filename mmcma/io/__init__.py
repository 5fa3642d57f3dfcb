"""Safe readers every layer shares (layer 0: imports no other subpackage).

- :mod:`~mmcma.io.errors`: :class:`InputError`, the error type for bad user
  input, and its kinds (file, option, missing file, array file, too large);
- :mod:`~mmcma.io.arrays`: ``.npy`` / ``.npz`` files read with every array's
  shape and dtype checked from its header before any data is decompressed;
- :mod:`~mmcma.io.npz_file`: :func:`save_npz_atomic`;
- :mod:`~mmcma.io.options`: options checked by name against a signature;
- :mod:`~mmcma.io.text`: text read line by line, each line bounded.
"""
from .arrays import (ArrayTooLargeError, max_array_bytes, npz_members,
                     read_array_file, read_npy, read_npz)
from .errors import (ArrayFileError, InputError, InputFileError,
                     InputOptionError, MissingFileError, TooLargeError)
from .npz_file import save_npz_atomic
from .text import bounded_lines
from .options import (check_call_options, check_choice, check_option_names,
                      keyword_names)

__all__ = [
    'InputError', 'InputFileError', 'InputOptionError', 'MissingFileError',
    'ArrayFileError', 'TooLargeError', 'ArrayTooLargeError',
    'max_array_bytes', 'npz_members', 'read_npz', 'read_npy',
    'read_array_file', 'save_npz_atomic', 'check_call_options',
    'check_choice', 'check_option_names', 'keyword_names', 'bounded_lines'
]
