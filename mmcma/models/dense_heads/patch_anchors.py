"""Anchors of the patch generators: torchvision's public ``AnchorGenerator``
on the pyramid, configured as ``anchor_generator=dict(sizes=...,
aspect_ratios=...)``."""
from typing import NamedTuple, Optional, Sequence

from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList

from ..utils.patch_types import ImagePyramid, named_config


class AnchorConfig(NamedTuple):
    """``anchor_generator`` of a patch generator.

    ``sizes``: anchor side lengths (pixels of the input) per anchored level,
    fine to coarse; ``aspect_ratios``: height / width ratios, the same on
    every level.
    """
    sizes: Sequence[Sequence[int]] = ((32, ), (64, ), (128, ), (256, ))
    aspect_ratios: Sequence[float] = (0.5, 1.0, 2.0)


def build_anchor_generator(cfg: Optional[dict]) -> AnchorGenerator:
    """torchvision's ``AnchorGenerator``: one ``(sizes, aspect_ratios)``
    pair per level (:class:`AnchorConfig`)."""
    anchors = named_config(AnchorConfig, cfg, 'anchor_generator')
    sizes = tuple(tuple(s) for s in anchors.sizes)
    return AnchorGenerator(
        sizes, (tuple(anchors.aspect_ratios), ) * len(sizes))


def image_list(pyramid: ImagePyramid) -> ImageList:
    """torchvision's ``ImageList`` for the anchors of ``pyramid``.

    Anchor generation reads only the input size from the image tensor, so
    an empty ``(B, 0, H, W)`` tensor stands for the images.
    """
    first = pyramid.maps[0]
    images = first.new_empty(first.shape[0], 0, *pyramid.batch_shape)
    return ImageList(images, [tuple(s) for s in pyramid.image_sizes])
