"""mmcma: multi-label image and video classification with label graphs.

Importing the package registers every component in MMPretrain's registries
(add ``custom_imports = dict(imports=['mmcma'])`` to a config).
"""
from . import compat  # noqa: F401  (patches the pinned stack first)
from . import datasets, engine, evaluation, models  # noqa: F401
from .embedding import ASGEResult, fit_asge
from .graph import LabelCounts, build_label_graph, label_counts
from .label_semantics import LabelSemantics, compute_label_semantics
from .version import __version__

__all__ = [
    '__version__', 'build_label_graph', 'label_counts', 'LabelCounts',
    'fit_asge', 'ASGEResult', 'LabelSemantics', 'compute_label_semantics'
]
