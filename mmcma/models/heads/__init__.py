from .cma_head import (CMABranch, CMAHead, attended_logits, class_wise_logits,
                       class_wise_pooling, normalize_attention)
from .cma_scores import (CosineAttention, cosine_attention_scores,
                         cosine_similarity, softmax_attention_scores)
from .gcn_head import GCNClsHead
from .ms_cma_head import MSCMAHead, fuse_logits
from .spatial_context_cfg import PatchTestConfig, PatchTrainConfig
from .spatial_context_head import SpatialContextHead

__all__ = [
    'CMAHead', 'MSCMAHead', 'CMABranch', 'CosineAttention',
    'cosine_similarity', 'cosine_attention_scores', 'softmax_attention_scores',
    'normalize_attention', 'attended_logits', 'class_wise_pooling',
    'class_wise_logits',
    'fuse_logits', 'GCNClsHead', 'PatchTestConfig', 'PatchTrainConfig',
    'SpatialContextHead'
]
