"""Label data: everything that turns a training set's label matrix into the
per-label arrays the models need.

Lowest first: :mod:`.names` (class names to words and file rows) and
:mod:`.adjacency` (the adjacency check and every graph normalisation);
:mod:`.knowledge` (ConceptNet, WordNet, knowledge-graph files);
:mod:`.graphs` (counts, statistical and ML-GCN graphs, KSSNet's KS graph);
:mod:`.vectors` (ASGE, word vectors, a sentence model, files);
:mod:`.state` (:class:`LabelState`: compute, cache) and
:mod:`.mlgcn_files` (ML-GCN's released files). Nothing here imports
:mod:`mmcma.datasets` or :mod:`mmcma.models`: a dataset hands in a label
matrix, a model receives a :class:`LabelState`
(:func:`mmcma.apis.fill_label_state`).
"""
from .adjacency import (NORMALIZATIONS, check_adjacency, normalize_graph,
                        propagation_graph)
from .graphs import (GRAPH_KINDS, GRAPH_NORMALIZATION, LabelCounts,
                     build_label_graph, label_counts)
from .state import (LABEL_ARRAYS, LabelState, cached_label_state,
                    compute_label_state, describe, label_state_key)
from .vectors import ASGEResult, fit_asge, make_label_embedding

__all__ = [
    'NORMALIZATIONS', 'check_adjacency', 'normalize_graph',
    'propagation_graph', 'GRAPH_KINDS', 'GRAPH_NORMALIZATION', 'LabelCounts',
    'build_label_graph', 'label_counts', 'LABEL_ARRAYS', 'LabelState',
    'cached_label_state', 'compute_label_state', 'describe',
    'label_state_key', 'ASGEResult', 'fit_asge', 'make_label_embedding'
]
