"""The error type for bad user input, and its kinds.

Every reader, source and tool of mmcma raises an :class:`InputError` for a
file or an option the user gave that cannot be used, with one sentence that
names the file or option, the value and what is expected. The tools print it
on one line without a traceback (``mmcma.engine.cli.exit_on_input_error``;
``--debug`` shows the traceback).

``InputError`` is a ``ValueError``, so code that catches ``ValueError`` keeps
working; kinds that were another builtin before keep it too (a missing file
is also a ``FileNotFoundError``, an image that cannot be loaded also a
``RuntimeError``).
"""


class InputError(ValueError):
    """A file or an option given by the user cannot be used."""


class InputFileError(InputError):
    """A file that cannot be read as the format it should be; the message
    starts with (or names) the file."""


class InputOptionError(InputError):
    """An option (config key, keyword argument, command-line flag) with an
    unknown name or a value outside what it accepts."""


class MissingFileError(InputFileError, FileNotFoundError):
    """A file or folder the user named does not exist."""


class ArrayFileError(InputFileError):
    """An ``.npy`` / ``.npz`` file that is unreadable, holds pickled or
    object arrays, or would decode to more than the limit; names the file
    and the array (member)."""


class TooLargeError(InputFileError):
    """A file that would take more memory than its limit once decoded (a
    decompression bomb, or a limit set too low); refused before decoding."""
