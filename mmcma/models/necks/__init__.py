from .cmt import CMTNeck
from .fpn import FeaturePyramidNeck

__all__ = ['CMTNeck', 'FeaturePyramidNeck']
