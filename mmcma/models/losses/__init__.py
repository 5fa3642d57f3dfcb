from .asge_loss import ASGELoss, asge_loss
from .weighted_bce import (ClassImbalanceBCELoss, class_imbalance_bce,
                           class_imbalance_weights)

__all__ = [
    'ASGELoss', 'asge_loss', 'ClassImbalanceBCELoss', 'class_imbalance_bce',
    'class_imbalance_weights'
]
