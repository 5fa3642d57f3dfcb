"""ML-GCN's training crop: a multi-scale corner/centre crop, resized.

ML-GCN's released code trains with TSN's ``MultiScaleCrop(448, scales=(1.0,
0.875, 0.75, 0.66, 0.5), max_distort=2)``: the crop's sides are fractions
of the image's short side (width and height from scales at most
``max_distort`` apart in the list, so the aspect ratio varies a little),
and the crop sits at one of 13 fixed places (corners, centre, edge centres,
quarter points) rather than anywhere. MMPretrain has no such transform
(``RandomResizedCrop`` draws area and aspect ratio and places the crop
anywhere), hence this one.
"""
from typing import List, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpretrain.registry import TRANSFORMS

#: The 13 crop positions, in quarters of the free space (x, y): corners,
#: centre, edge centres and the four quarter points.
CROP_POSITIONS = ((0, 0), (4, 0), (0, 4), (4, 4), (2, 2), (0, 2), (4, 2),
                  (2, 4), (2, 0), (1, 1), (3, 1), (1, 3), (3, 3))


def crop_sizes(height: int, width: int, size: Tuple[int, int],
               scales: Sequence[float],
               max_distort: int) -> List[Tuple[int, int]]:
    """The (crop width, crop height) pairs to choose from.

    Each side is ``int(short side * scale)``, set to the output side when
    within 3 pixels of it (as TSN does), and at most the image's side; the
    width's and the height's scales are at most ``max_distort`` apart in
    ``scales``.

    Args:
        height (int): Image height.
        width (int): Image width.
        size (tuple[int, int]): Output (width, height).
        scales (Sequence[float]): Fractions of the short side.
        max_distort (int): Largest index distance between the two scales.
    """
    base = min(height, width)
    sides = [int(base * s) for s in scales]
    widths = [min(size[0] if abs(s - size[0]) < 3 else s, width)
              for s in sides]
    heights = [min(size[1] if abs(s - size[1]) < 3 else s, height)
               for s in sides]
    return [(w, h) for i, h in enumerate(heights)
            for j, w in enumerate(widths) if abs(i - j) <= max_distort]


def crop_offsets(height: int, width: int, crop_w: int,
                 crop_h: int) -> List[Tuple[int, int]]:
    """The 13 (x, y) top-left corners of :data:`CROP_POSITIONS`."""
    step_x, step_y = (width - crop_w) // 4, (height - crop_h) // 4
    return [(qx * step_x, qy * step_y) for qx, qy in CROP_POSITIONS]


@TRANSFORMS.register_module()
class MultiScaleCrop(BaseTransform):
    """Crop at a random scale and one of 13 places, then resize.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``.

    Args:
        scale (int | tuple[int, int]): Output size, ``s`` or ``(w, h)``.
        scales (Sequence[float]): Crop sides as fractions of the short side.
            Defaults to ML-GCN's ``(1.0, 0.875, 0.75, 0.66, 0.5)``.
        max_distort (int): Largest index distance between the width's and
            the height's scale. Defaults to 2 (ML-GCN).
        interpolation (str): Resize interpolation. Defaults to
            ``'bilinear'``.
    """

    def __init__(self,
                 scale: Union[int, Tuple[int, int]],
                 scales: Sequence[float] = (1.0, 0.875, 0.75, 0.66, 0.5),
                 max_distort: int = 2,
                 interpolation: str = 'bilinear'):
        self.scale = (scale, scale) if isinstance(scale, int) else tuple(
            scale)
        if not all(isinstance(s, int) and s > 0 for s in self.scale):
            raise ValueError(f'scale must be positive int(s), got {scale!r}')
        if not scales or not all(0 < s <= 1 for s in scales):
            raise ValueError(f'scales must lie in (0, 1], got {scales!r}')
        if max_distort < 0:
            raise ValueError(f'max_distort must be >= 0, got {max_distort}')
        self.scales = tuple(scales)
        self.max_distort = max_distort
        self.interpolation = interpolation

    @cache_randomness
    def sample_box(self, height: int, width: int) -> Tuple[int, int, int,
                                                           int]:
        """A random crop (x, y, w, h), uniform over sizes, then places."""
        sizes = crop_sizes(height, width, self.scale, self.scales,
                           self.max_distort)
        crop_w, crop_h = sizes[np.random.randint(len(sizes))]
        offsets = crop_offsets(height, width, crop_w, crop_h)
        x, y = offsets[np.random.randint(len(offsets))]
        return x, y, crop_w, crop_h

    def transform(self, results: dict) -> dict:
        img = results['img']
        x, y, w, h = self.sample_box(*img.shape[:2])
        img = mmcv.imcrop(img, np.array([x, y, x + w - 1, y + h - 1]))
        img = mmcv.imresize(img, self.scale,
                            interpolation=self.interpolation)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale={self.scale}, '
                f'scales={self.scales}, max_distort={self.max_distort})')
