from .cma_head import (CMABranch, CMAHead, class_wise_logits,
                       class_wise_pooling, cosine_attention_scores,
                       normalize_attention)
from .mlgcn_head import (MLGCNHead, gcn_propagate, global_max_pool,
                         mlgcn_adjacency)
from .ms_cma_head import MSCMAHead, fuse_probabilities

__all__ = [
    'CMAHead', 'MSCMAHead', 'CMABranch', 'cosine_attention_scores',
    'normalize_attention', 'class_wise_pooling', 'class_wise_logits',
    'fuse_probabilities', 'MLGCNHead', 'mlgcn_adjacency', 'gcn_propagate',
    'global_max_pool'
]
