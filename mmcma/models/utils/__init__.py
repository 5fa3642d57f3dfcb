from .features import (CMTFeature, MaskedFeature, as_masked_feature,
                       feature_problem)
from .masked_norm import MaskedBatchNorm1d, MaskedBatchNorm2d, masked_moments
from .masking import zero_padding

__all__ = [
    'CMTFeature', 'MaskedFeature', 'as_masked_feature', 'feature_problem',
    'MaskedBatchNorm1d', 'MaskedBatchNorm2d', 'masked_moments', 'zero_padding'
]
