"""mmcma: multi-label image and video classification with label graphs.

Importing the package registers every component in MMPretrain's registries
(add ``custom_imports = dict(imports=['mmcma'])`` to a config).
"""
from . import compat  # noqa: F401  (patches the pinned stack first)
from . import datasets, engine, evaluation, models, visualization  # noqa: F401,E501
from .config_scope import register_config_scope
from .embedding import (ASGEResult, LabelState, compute_label_state,
                        fit_asge)
from .graph import LabelCounts, build_label_graph, label_counts
from .model_index import register_model_index
from .models import (LabelStateMixin, apply_label_state, fill_label_state,
                     label_state_requirements)
from .version import __version__

register_config_scope()  # `mmcma::path` bases in configs
register_model_index()  # mmpretrain.get_model / list_models by config name

__all__ = [
    '__version__', 'build_label_graph', 'label_counts', 'LabelCounts',
    'fit_asge', 'ASGEResult', 'LabelState', 'compute_label_state',
    'LabelStateMixin', 'fill_label_state', 'apply_label_state',
    'label_state_requirements'
]
