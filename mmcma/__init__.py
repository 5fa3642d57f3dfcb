"""mmcma: multi-label image and video classification with label graphs.

Importing the package registers every component in MMPretrain's registries
(add ``custom_imports = dict(imports=['mmcma'])`` to a config).
"""
from . import compat  # noqa: F401  (patches the pinned stack first)
from . import (apis, datasets, engine, evaluation, labels,  # noqa: F401
               models, visualization)
from .config_scope import register_config_scope
from .apis.label_state import apply_label_state, fill_label_state
from .labels import (ASGEResult, LabelCounts, LabelState,
                     build_label_graph, compute_label_state, fit_asge,
                     label_counts)
from .model_index import register_model_index
from .models import LabelStateMixin, label_state_requirements
from .io import InputError
from .version import __version__

register_config_scope()  # `mmcma::path` bases in configs
register_model_index()  # mmpretrain.get_model / list_models by config name

__all__ = [
    '__version__', 'build_label_graph', 'label_counts', 'LabelCounts',
    'fit_asge', 'ASGEResult', 'LabelState', 'compute_label_state',
    'LabelStateMixin', 'fill_label_state', 'apply_label_state',
    'label_state_requirements', 'InputError'
]
