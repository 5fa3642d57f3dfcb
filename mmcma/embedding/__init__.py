"""Label embeddings fitted to label graphs."""
from .asge import ASGENet, ASGEResult, fit_asge

__all__ = ['ASGENet', 'ASGEResult', 'fit_asge']
