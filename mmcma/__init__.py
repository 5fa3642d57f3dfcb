"""mmcma: multi-label image and video classification with label graphs.

Importing the package registers every component in MMPretrain's registries
(add ``custom_imports = dict(imports=['mmcma'])`` to a config).
"""
from . import compat  # noqa: F401  (patches the pinned stack first)
from . import datasets, evaluation  # noqa: F401
from .version import __version__

__all__ = ['__version__']
