"""Label graphs built from training annotations (and knowledge graphs)."""
from .build import (GRAPH_KINDS, GRAPH_NORMALIZATION, SPARSE_GRAPH_KINDS,
                    build_label_graph, build_sparse_label_graph,
                    graph_option_names)
from .counts import LabelCounts, LabelMatrix, label_counts
from .ks import (SUPERIMPOSED_NORMS, drop_self_loops, ks_graph,
                 ks_superimpose, normalize_superimposed, self_weight,
                 superimpose, threshold)
from .ks_sparse import sparse_ks_graph, sparse_ks_superimpose
from .sparse import sparse_co_counts, sparse_mlgcn_graph, to_torch_sparse
from .statistical import MLGCN_VARIANTS, conditional_graph, mlgcn_graph

__all__ = [
    'GRAPH_KINDS', 'GRAPH_NORMALIZATION', 'SPARSE_GRAPH_KINDS',
    'build_label_graph', 'build_sparse_label_graph',
    'graph_option_names', 'LabelCounts',
    'LabelMatrix', 'label_counts', 'SUPERIMPOSED_NORMS', 'drop_self_loops',
    'ks_graph', 'ks_superimpose', 'normalize_superimposed', 'self_weight',
    'superimpose', 'threshold',
    'MLGCN_VARIANTS', 'conditional_graph', 'mlgcn_graph',
    'sparse_mlgcn_graph', 'to_torch_sparse', 'sparse_co_counts',
    'sparse_ks_graph',
    'sparse_ks_superimpose'
]
