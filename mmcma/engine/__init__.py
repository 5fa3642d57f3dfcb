from .hooks import LabelEmbeddingHook

__all__ = ['LabelEmbeddingHook']
