from .fused_scale_bce import FusedScaleBCELoss
from .label_mean import MeanOverLabelsLoss
from .patch_losses import (label_predictor_loss, location_loss,
                           patch_classifier_loss)
from .weighted_bce import (ClassImbalanceBCELoss, class_imbalance_bce,
                           class_imbalance_weights,
                           mean_sigmoid_log_probabilities,
                           sigmoid_log_probabilities)

__all__ = [
    'ClassImbalanceBCELoss', 'FusedScaleBCELoss', 'MeanOverLabelsLoss',
    'class_imbalance_bce', 'class_imbalance_weights',
    'mean_sigmoid_log_probabilities', 'sigmoid_log_probabilities',
    'label_predictor_loss', 'location_loss', 'patch_classifier_loss'
]
