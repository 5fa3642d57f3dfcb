from ..utils import MaskedBatchNorm1d
from .snet import SNet, SNetFC

__all__ = ['MaskedBatchNorm1d', 'SNet', 'SNetFC']
