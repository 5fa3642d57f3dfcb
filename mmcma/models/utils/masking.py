"""Helpers for features padded to a common size, with a validity mask."""
from typing import Optional

from torch import Tensor


def zero_padding(x: Tensor, mask: Optional[Tensor]) -> Tensor:
    """Set the masked-out positions of ``x`` to zero.

    Args:
        x (Tensor): Features (B, C, *S), e.g. (B, C, T) or (B, C, H, W).
        mask (Tensor, optional): Valid positions (B, *S), bool; None keeps
            every position.

    Returns:
        Tensor: ``x`` (B, C, *S) with zeros where ``mask`` is False.
    """
    return x if mask is None else x.masked_fill(~mask.unsqueeze(1), 0)
