from .cmt import CMTNeck

__all__ = ['CMTNeck']
