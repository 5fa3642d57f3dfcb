from .attention import plot_frame_attention, resolve_label
from .figures import (attention_figure, figure_to_rgb, frame_attention_figure,
                      label_scores_figure, relative_attention)
from .visualizer import AttentionVisualizer

__all__ = [
    'AttentionVisualizer', 'attention_figure', 'figure_to_rgb',
    'frame_attention_figure', 'label_scores_figure', 'plot_frame_attention',
    'relative_attention', 'resolve_label'
]
