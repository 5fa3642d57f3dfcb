from .video_classifier import (FrameFeaturePreprocessor, VideoClassifier,
                               pad_sequences)

__all__ = ['FrameFeaturePreprocessor', 'VideoClassifier', 'pad_sequences']
