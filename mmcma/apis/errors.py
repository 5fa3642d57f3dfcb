"""The errors of the inference API: a file or an option it cannot take.

Every message is one sentence that names the file or option, the value and
what is expected; ``tools/infer.py`` prints it on one line without a
traceback (:data:`USER_ERRORS`). ``InferenceInputError`` is an
:class:`mmcma.io.InputError`. The types subclass ``ValueError`` and
``TypeError`` (and ``FileNotFoundError`` for a missing input), so callers
that catch those keep working.
"""
from typing import Any, Tuple, Type

from ..datasets.image_check import ImageLoadError
from ..io import InputError
from ..models.utils.label_rule import LabelRuleError


class InferenceInputError(InputError):
    """An input file or a call option the inferencer cannot use."""


class MissingInputError(InferenceInputError, FileNotFoundError):
    """An input path that does not exist, or a folder without images."""


class InferenceTypeError(TypeError):
    """A model or config the inferencer cannot serve, or an option its
    model cannot honour (attention maps of a head without attention)."""


#: What the inference tools report on one line, without a traceback.
USER_ERRORS: Tuple[Type[Exception], ...] = (InferenceInputError,
                                             InferenceTypeError,
                                             LabelRuleError, ImageLoadError)


def option_error(name: str, value: Any, expected: str) -> InferenceInputError:
    """``<name> must be <expected>, got <value>``."""
    return InferenceInputError(f'{name} must be {expected}, got {value!r}')


def file_error(path: str, problem: str) -> InferenceInputError:
    """``image file <path> <problem>``."""
    return InferenceInputError(f'image file {path} {problem}')
