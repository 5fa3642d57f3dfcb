from .label_embedding_hook import LabelEmbeddingHook

__all__ = ['LabelEmbeddingHook']
