"""From label graphs to label vectors, and the label state of a dataset.

Nothing here imports :mod:`mmcma.models`: the model side of the label state
(the mixin and the fill function) lives in :mod:`mmcma.models.label_state`.
"""
from .asge import ASGENet, ASGEResult, fit_asge
from .label_state import (LabelState, cached_label_state,
                          compute_label_state, describe, label_state_key)
from .sources import (EMBEDDING_SOURCES, check_embedding,
                      load_embedding_file, make_label_embedding)

__all__ = [
    'ASGENet', 'ASGEResult', 'fit_asge', 'LabelState', 'compute_label_state',
    'cached_label_state', 'label_state_key', 'describe', 'EMBEDDING_SOURCES',
    'check_embedding', 'load_embedding_file', 'make_label_embedding'
]
