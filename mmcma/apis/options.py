"""Checks of the inferencer's options, each answered in one sentence."""
import numbers
import os
import os.path as osp
from typing import Any, Optional

from .errors import InferenceInputError, InferenceTypeError, option_error


def check_whole(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int, if it is a whole number >= ``minimum``."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or value < minimum):
        raise option_error(name, value, f'a whole number >= {minimum}')
    return int(value)


def check_flag(name: str, value: Any) -> bool:
    """``value`` if it is a bool (a mistyped ``'no'`` would be true)."""
    if not isinstance(value, bool):
        raise option_error(name, value, 'True or False')
    return value


def check_show_dir(show_dir: Any) -> Optional[str]:
    """A folder to write figures to (created if missing), or None."""
    if show_dir is None:
        return None
    if not isinstance(show_dir, (str, os.PathLike)) or not os.fspath(
            show_dir):
        raise option_error('show_dir', show_dir, 'a folder path')
    show_dir = os.fspath(show_dir)
    if osp.exists(show_dir) and not osp.isdir(show_dir):
        raise InferenceInputError(
            f'show_dir must be a folder, got the file {show_dir}')
    return show_dir


def check_patches(patches: Any, model_name: str,
                  has_patches: bool) -> Optional[int]:
    """The number of labels whose best patch is reported, or None (the
    default: 5 with ``show_dir`` for models that report patches)."""
    if patches is None:
        return None
    patches = check_whole('patches', patches, 0)
    if patches and not has_patches:
        raise InferenceTypeError(
            f'patches={patches} needs a model that reports image patches '
            f'(spatial-context models), got {model_name}')
    return patches


def check_attention(return_attention: Any, head_name: str,
                    has_attention: bool) -> bool:
    """``return_attention``, if the head can give attention maps."""
    if check_flag('return_attention', return_attention) and \
            not has_attention:
        raise InferenceTypeError(
            'return_attention=True needs a head that shows attention (CMA, '
            f'MS-CMA: no get_attention in {head_name})')
    return return_attention
