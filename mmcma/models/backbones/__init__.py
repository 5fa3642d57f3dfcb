from ..utils import MaskedBatchNorm1d
from .efficientnet_lite import EfficientNetLite0
from .snet import SNet, SNetFC

__all__ = ['EfficientNetLite0', 'MaskedBatchNorm1d', 'SNet', 'SNetFC']
