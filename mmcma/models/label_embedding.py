"""Label embeddings as model state.

A module that needs label embeddings (the CMA head, a GCN, ...) inherits
:class:`LabelEmbeddingMixin`. The embeddings live in a persistent buffer, so
checkpoints carry them and testing needs no training data. The pre-run hook
(:class:`mmcma.engine.hooks.LabelEmbeddingHook`) fills the buffer of every such
module before training; tests may call :meth:`set_label_embedding` directly.
"""
from typing import Union

import numpy as np
import torch
from torch import nn


class LabelEmbeddingMixin:
    """Declares that a module consumes an ``(N, D)`` label-embedding matrix.

    Call :meth:`init_label_embedding` in ``__init__`` after ``nn.Module`` is
    initialised. The buffer starts as zeros (``label_embedding_ready`` is False).
    """

    requires_label_embedding = True

    def init_label_embedding(self, num_labels: int, embed_dim: int) -> None:
        """Register the persistent ``label_embedding`` buffer of shape (N, D)."""
        assert isinstance(self, nn.Module)
        self.register_buffer('label_embedding',
                             torch.zeros(num_labels, embed_dim))
        self.register_buffer('label_embedding_ready',
                             torch.zeros((), dtype=torch.bool))

    def set_label_embedding(self, embedding: Union[np.ndarray,
                                                   torch.Tensor]) -> None:
        """Copy ``embedding`` (N, D) into the buffer, checking its shape."""
        embedding = torch.as_tensor(np.asarray(embedding, dtype=np.float32)
                                    if isinstance(embedding, np.ndarray) else
                                    embedding).float()
        expected = tuple(self.label_embedding.shape)
        if tuple(embedding.shape) != expected:
            raise ValueError(
                f'{type(self).__name__} expects label embeddings of shape '
                f'{expected} (num_labels, embed_dim), got '
                f'{tuple(embedding.shape)}.')
        if not torch.isfinite(embedding).all():
            raise ValueError('Label embeddings contain NaN or inf.')
        self.label_embedding.copy_(embedding.to(self.label_embedding.device))
        self.label_embedding_ready.fill_(True)


def modules_needing_label_embedding(model: nn.Module):
    """Yield ``(name, module)`` for every sub-module declaring the need."""
    for name, module in model.named_modules():
        if getattr(module, 'requires_label_embedding', False):
            yield name, module
