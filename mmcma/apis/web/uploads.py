"""Photos uploaded to the web page: checked from their bytes, then decoded.

An upload is refused, with a one-sentence message for the page, when it is
empty, when Pillow cannot read an image header from it, when its header
announces more pixels than the page allows (the datasets' limit,
:data:`~mmcma.datasets.image_check.DEFAULT_MAX_PIXELS`, by default), or when
OpenCV cannot decode it. The size is read from the header before anything is
decoded, so a small file that would decode to gigabytes is refused without
spending the memory.

:func:`~mmcma.datasets.image_check.check_image_size` does the same for a
file path, with a hint about dataset configs; uploads are bytes in memory,
and the page's limit is a flag of ``tools/web_demo.py``, hence this
module.
"""
import io
import os.path as osp
from typing import Optional

import mmcv
import numpy as np
from PIL import Image, UnidentifiedImageError

#: Longest file name kept from an upload (the rest is cut).
MAX_NAME_LENGTH = 120


class UploadError(ValueError):
    """An upload that is not an image the page can classify."""


def upload_name(filename: Optional[str]) -> str:
    """The base name of an uploaded file (``photo`` if it has none), cut to
    :data:`MAX_NAME_LENGTH` characters; never a path."""
    name = osp.basename((filename or '').replace('\\', '/')).strip()
    return (name or 'photo')[:MAX_NAME_LENGTH]


def image_size(data: bytes, name: str) -> tuple:
    """``(width, height)`` from the image header in ``data``.

    Raises:
        UploadError: ``data`` is empty or has no header Pillow can read.
    """
    if not data:
        raise UploadError(f'{name} is an empty file: upload a photo '
                          '(JPEG, PNG, WebP, BMP, TIFF)')
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Image.DecompressionBombError as e:
        # Pillow refuses headers above 2 * Image.MAX_IMAGE_PIXELS itself.
        raise UploadError(f'{name} is too large for Pillow to read its '
                          f'header: {e}') from None
    except (UnidentifiedImageError, OSError, ValueError,
            SyntaxError):  # SyntaxError: Pillow's parsers on some files
        raise UploadError(f'{name} is not an image (no image header found): '
                          'upload a photo (JPEG, PNG, WebP, BMP, TIFF)'
                          ) from None


def read_upload(data: bytes, name: str,
                max_pixels: Optional[int]) -> np.ndarray:
    """Check an uploaded photo and decode it as ``mmcv.imread`` would.

    Args:
        data (bytes): The uploaded file.
        name (str): Its name, for the messages.
        max_pixels (int, optional): Largest width x height; None: no limit.

    Returns:
        np.ndarray: The image, BGR uint8 (H, W, 3): ``mmcv.imfrombytes``
        with mmcv's defaults, the decoding ``mmcv.imread`` applies to a
        file, so the inferencer sees the same pixels as for that file.

    Raises:
        UploadError: Empty, not an image, over ``max_pixels``, or not
            decodable; the message names the upload.
    """
    width, height = image_size(data, name)
    if max_pixels is not None and width * height > max_pixels:
        raise UploadError(
            f'{name} is {width}x{height} = {width * height:,} pixels, over '
            f"this page's limit of {max_pixels:,} pixels: upload a smaller "
            'photo (or restart tools/web_demo.py with a larger --max-pixels)')
    try:
        image = mmcv.imfrombytes(data, flag='color')
    except Exception:  # noqa: BLE001  (OpenCV raises cv2.error on some)
        image = None
    if image is None or image.size == 0:
        raise UploadError(f'{name} cannot be decoded (a truncated file, or '
                          'an image format OpenCV does not read): upload a '
                          'JPEG, PNG, WebP, BMP or TIFF photo')
    return image
