from .weighted_bce import (ClassImbalanceBCELoss, class_imbalance_bce,
                           class_imbalance_weights,
                           mean_sigmoid_log_probabilities,
                           sigmoid_log_probabilities)

__all__ = [
    'ClassImbalanceBCELoss', 'class_imbalance_bce', 'class_imbalance_weights',
    'mean_sigmoid_log_probabilities', 'sigmoid_log_probabilities'
]
