from ..utils import MaskedBatchNorm1d
from .efficientnet_lite import EfficientNetLite0
from .lateral_connection import (ACTIVATIONS, LateralConnection,
                                 composed_lateral_connection,
                                 label_correlation, lateral_connection)
from .lateral_gcn import LateralGCNBackbone, check_stages, lateral_hooks
from .snet import SNet, SNetFC

__all__ = [
    'EfficientNetLite0', 'MaskedBatchNorm1d', 'SNet', 'SNetFC',
    'ACTIVATIONS', 'LateralConnection', 'label_correlation',
    'lateral_connection', 'composed_lateral_connection',
    'LateralGCNBackbone', 'check_stages',
    'lateral_hooks'
]
