"""Named types of the feature maps that travel between stages.

Spatial maps (B, C, H, W) and sequences (B, C, T) are one case: both may come
with a boolean mask of valid positions (B, H, W) / (B, T) when samples are
padded to a common size (videos of different lengths). Stages hand them on as
named tuples, never as positional ones.
"""
from typing import NamedTuple, Optional, Union

from torch import Tensor


class MaskedFeature(NamedTuple):
    """A backbone output: features and, optionally, their validity mask.

    Attributes:
        feat (Tensor): Features (B, C, H, W) or (B, C, T).
        mask (Tensor, optional): Valid positions (B, H, W) or (B, T), bool;
            None when every position is valid.
    """
    feat: Tensor
    mask: Optional[Tensor] = None


class CMTFeature(NamedTuple):
    """One scale of the CMT neck's output, the CMA head's input.

    Attributes:
        visual (Tensor): Visual features I (B, C, H, W) or (B, C, T).
        projected (Tensor, optional): I projected into the label-embedding
            space, I_s (B, D, H, W) or (B, D, T); None when the neck has no
            projection (``embed_dim=None``, for self-attention).
        mask (Tensor, optional): Valid positions (B, H, W) or (B, T), bool.
    """
    visual: Tensor
    projected: Optional[Tensor]
    mask: Optional[Tensor] = None


def as_masked_feature(item: Union[Tensor, MaskedFeature],
                      who: str) -> MaskedFeature:
    """Accept a plain tensor or a :class:`MaskedFeature`; reject the rest.

    Args:
        item: A backbone output item.
        who (str): The consumer, named in the error.

    Raises:
        TypeError: ``item`` is neither (e.g. a bare ``(tensor, mask)`` tuple).
    """
    if isinstance(item, MaskedFeature):
        return item
    if isinstance(item, Tensor):
        return MaskedFeature(item)
    raise TypeError(f'{who} expects each backbone output as a Tensor or a '
                    f'MaskedFeature(feat, mask), got {type(item).__name__}')
