from . import backbones, classifiers, heads, losses, necks  # noqa: F401
from .label_embedding import (LabelEmbeddingMixin,
                              modules_needing_label_embedding)

__all__ = ['LabelEmbeddingMixin', 'modules_needing_label_embedding']
