from .masked_norm import MaskedBatchNorm1d, MaskedBatchNorm2d, masked_moments
from .masking import zero_padding

__all__ = [
    'MaskedBatchNorm1d', 'MaskedBatchNorm2d', 'masked_moments', 'zero_padding'
]
