"""Clear errors for image files: too large, missing or undecodable.

Image datasets of mmcma (:class:`NamedImageErrorsMixin`) check each image's
size from its header before the pipeline decodes it, and name the file when
loading fails.
"""
import numbers
import os.path as osp
from typing import Optional

import cv2
import numpy as np
from PIL import Image

from ..io import InputFileError, InputOptionError, TooLargeError

#: Default pixel limit per image (width x height). 50 MP is above the photos
#: of common cameras and far above the datasets here (COCO, VOC and NUS-WIDE
#: images are under 1 MP); a decoded 50 MP RGB image takes 150 MB, before any
#: augmentation or batch padding multiplies it.
DEFAULT_MAX_PIXELS = 50_000_000


class ImageLoadError(InputFileError, RuntimeError):
    """An image file of a dataset is missing or cannot be decoded (an
    :class:`~mmcma.io.InputFileError`, and a ``RuntimeError`` as before)."""


class ImageTooLargeError(ImageLoadError, TooLargeError):
    """An image has more pixels than the dataset's ``max_pixels``."""


def _raise_hint(max_pixels, setting: str) -> str:
    return ('raise max_pixels in the dataset config, e.g. --cfg-options '
            f'{setting}={2 * max_pixels}, or set it to None to disable the '
            'check')


def check_image_size(
        path: str,
        max_pixels: Optional[float],
        setting: str = 'train_dataloader.dataset.max_pixels') -> None:
    """Raise :class:`ImageTooLargeError` if ``path`` has over ``max_pixels``.

    Reads only the header with Pillow (``Image.open`` decodes nothing), so a
    decompression bomb (a small file that decodes to gigabytes) is refused
    before any memory is spent on it. Returns quietly when Pillow cannot read
    the header (missing file, format unknown to Pillow, remote URI): the
    decoder then loads or reports the file as usual.

    Args:
        path (str): Image path.
        max_pixels (float, optional): Largest width x height allowed; None
            disables the check.
        setting (str): The config key the message tells the user to raise.
    """
    if max_pixels is None or '://' in path:
        return
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Image.DecompressionBombError as e:
        # Pillow itself refuses headers above 2 * Image.MAX_IMAGE_PIXELS.
        raise ImageTooLargeError(
            f'image {path} is too large for Pillow to read its header ({e}); '
            f'the limit is max_pixels={max_pixels:,}: '
            f'{_raise_hint(max_pixels, setting)}'
            ' (limits above Pillow\'s also need PIL.Image.MAX_IMAGE_PIXELS '
            'raised)') from e
    except Exception:  # noqa: BLE001
        # Missing, or a header Pillow cannot parse: the decoder loads the
        # file or check_image_file reports it.
        return
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f'image {path} is {width}x{height} = {width * height:,} pixels, '
            f'over the limit max_pixels={max_pixels:,}: '
            f'{_raise_hint(max_pixels, setting)}')


def check_image_file(path: str, cause: Optional[BaseException] = None) -> None:
    """Raise :class:`ImageLoadError` if ``path`` is missing or undecodable.

    Called after a sample failed to load, to tell the user which file is at
    fault; returns quietly when the file itself is fine (the failure came from
    elsewhere in the pipeline).

    Args:
        path (str): Local image path.
        cause (BaseException, optional): The original exception, chained.
    """
    if osp.isdir(path):
        raise ImageLoadError(f'image path is a folder, not a file: {path}') \
            from cause
    if not osp.isfile(path):
        folder = osp.dirname(path)
        if folder and not osp.isdir(folder):
            raise ImageLoadError(
                f'image file is missing: {path} (its folder {folder} does not '
                'exist: check data_root and data_prefix)') from cause
        raise ImageLoadError(f'image file is missing: {path}') from cause
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or cv2.imdecode(raw, cv2.IMREAD_COLOR) is None:
        raise ImageLoadError(
            f'image file cannot be decoded (empty, truncated or not an '
            f'image): {path}') from cause


class NamedImageErrorsMixin:
    """Dataset mixin: a per-image pixel limit, and load errors naming the file.

    Put it before the dataset base class; samples must carry ``img_path``.
    Adds the keyword argument ``max_pixels`` (default
    :data:`DEFAULT_MAX_PIXELS`, None disables): each image's size is read from
    its header before the pipeline decodes it.
    """

    def __init__(self, *args,
                 max_pixels: Optional[float] = DEFAULT_MAX_PIXELS, **kwargs):
        if max_pixels is not None and (
                isinstance(max_pixels, bool)
                or not isinstance(max_pixels, numbers.Real)
                or not max_pixels > 0):
            raise InputOptionError(
                f'max_pixels must be a positive number or None, got '
                f'{max_pixels!r}')
        self.max_pixels = max_pixels
        super().__init__(*args, **kwargs)

    def prepare_data(self, idx: int):
        """Check the image size, run the pipeline; failures name the image."""
        path = self.get_data_info(idx)['img_path']
        check_image_size(path, self.max_pixels)
        try:
            return super().prepare_data(idx)
        except Exception as e:
            check_image_file(path, cause=e)
            raise
