"""Label vectors: ASGE fitted on a label graph, skip-gram vectors of the
training label sets, word vectors, a sentence model, or a file; chosen by an
``embedding`` dict (:mod:`.sources`)."""
from .asge import ASGEResult, fit_asge
from .asge_net import ASGENet
from .sources import (EMBEDDING_SOURCES, SOURCES_NEEDING_GRAPH,
                      SOURCES_NEEDING_LABELS, check_embedding,
                      load_embedding_file, make_label_embedding,
                      split_source_options)
from .word2vec import SkipGram, Word2VecResult, fit_word2vec

__all__ = [
    'ASGENet', 'ASGEResult', 'fit_asge', 'EMBEDDING_SOURCES',
    'SOURCES_NEEDING_GRAPH', 'SOURCES_NEEDING_LABELS', 'check_embedding',
    'load_embedding_file', 'make_label_embedding', 'split_source_options',
    'SkipGram', 'Word2VecResult', 'fit_word2vec'
]
