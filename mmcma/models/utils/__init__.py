from .features import (CMTFeature, GCNFeature, MaskedFeature,
                       as_masked_feature, feature_problem)
from .gcn import (POOLINGS, check_normalize, gcn_layers, gcn_weights,
                  global_avg_pool, global_max_pool, label_graph_adjacency)
from .label_gcn import GCN_INITS, LabelGCN
from .label_rule import (LabelRule, LabelRuleError, check_label_rule,
                         head_label_rule, select_labels)
from .masked_norm import MaskedBatchNorm1d, MaskedBatchNorm2d, masked_moments
from .masking import zero_padding
from .patch_types import (GroundTruth, ImagePyramid, LossWeights,
                          PatchOutputs, PatchPredictions, Patches,
                          PatchTargets, Proposals, TopPatches, named_config)

__all__ = [
    'CMTFeature', 'GCNFeature', 'MaskedFeature', 'as_masked_feature',
    'feature_problem', 'MaskedBatchNorm1d', 'MaskedBatchNorm2d',
    'masked_moments', 'zero_padding', 'check_normalize', 'POOLINGS',
    'gcn_layers', 'gcn_weights', 'global_avg_pool', 'global_max_pool',
    'label_graph_adjacency', 'GCN_INITS', 'LabelGCN', 'LabelRule',
    'LabelRuleError', 'check_label_rule', 'head_label_rule', 'select_labels',
    'GroundTruth', 'ImagePyramid', 'LossWeights', 'PatchOutputs',
    'PatchPredictions', 'Patches', 'PatchTargets', 'Proposals', 'TopPatches',
    'named_config'
]
