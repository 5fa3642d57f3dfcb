"""Clear errors for image files that cannot be loaded."""
import os.path as osp
from typing import Optional

import cv2
import numpy as np


class ImageLoadError(RuntimeError):
    """An image file of a dataset is missing or cannot be decoded."""


def check_image_file(path: str, cause: Optional[BaseException] = None) -> None:
    """Raise :class:`ImageLoadError` if ``path`` is missing or undecodable.

    Called after a sample failed to load, to tell the user which file is at
    fault; returns quietly when the file itself is fine (the failure came from
    elsewhere in the pipeline).

    Args:
        path (str): Local image path.
        cause (BaseException, optional): The original exception, chained.
    """
    if not osp.isfile(path):
        raise ImageLoadError(f'image file is missing: {path}') from cause
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or cv2.imdecode(raw, cv2.IMREAD_COLOR) is None:
        raise ImageLoadError(
            f'image file cannot be decoded (empty, truncated or not an '
            f'image): {path}') from cause


class NamedImageErrorsMixin:
    """Dataset mixin: a sample whose image fails to load raises naming it.

    Put it before the dataset base class; samples must carry ``img_path``.
    """

    def prepare_data(self, idx: int):
        """Run the pipeline; a missing or broken image raises with its path."""
        try:
            return super().prepare_data(idx)
        except Exception as e:
            check_image_file(self.get_data_info(idx)['img_path'], cause=e)
            raise
