"""Knowledge graphs over a dataset's labels (KSSNet's A_K).

From ConceptNet's assertions dump (:mod:`.conceptnet`), from WordNet 3.0
(:mod:`.wordnet`, offline through nltk, :mod:`.wordnet_data`), or from a
file of ``tools/build_knowledge_graph.py`` (:mod:`.graph_file`); chosen by
a ``knowledge`` dict (:mod:`.sources`) in the ``'ks'`` label graph
(:mod:`mmcma.labels.graphs.ks`). docs/knowledge_graph.md explains the choices.
"""
from .conceptnet import NEGATIVE_RELATIONS, conceptnet_graph, read_assertions
from .graph_file import KnowledgeGraph, load_knowledge_graph
from ..names import CONCEPTNET_TERMS, WORDNET_SYNSETS
from .sources import KNOWLEDGE_SOURCES, knowledge_digest, knowledge_graph
from .wordnet import wordnet_graph
from .wordnet_data import load_wordnet

__all__ = [
    'KnowledgeGraph', 'load_knowledge_graph', 'knowledge_graph',
    'knowledge_digest', 'KNOWLEDGE_SOURCES', 'conceptnet_graph',
    'read_assertions', 'NEGATIVE_RELATIONS', 'wordnet_graph', 'load_wordnet',
    'CONCEPTNET_TERMS', 'WORDNET_SYNSETS'
]
