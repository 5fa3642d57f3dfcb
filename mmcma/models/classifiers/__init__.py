from .spatial_context import SpatialContextClassifier, image_sizes
from .video_classifier import (FrameFeaturePreprocessor, VideoClassifier,
                               pad_sequences)

__all__ = [
    'SpatialContextClassifier', 'image_sizes', 'FrameFeaturePreprocessor',
    'VideoClassifier', 'pad_sequences'
]
