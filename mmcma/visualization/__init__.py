from .attention import plot_frame_attention, resolve_label
from .figures import (attention_figure, figure_to_rgb, frame_attention_figure,
                      label_scores_figure, relative_attention)
from .patches import patch_figure
from .visualizer import AttentionVisualizer, build_visualizer

__all__ = [
    'AttentionVisualizer', 'attention_figure', 'build_visualizer',
    'figure_to_rgb', 'frame_attention_figure', 'label_scores_figure',
    'patch_figure', 'plot_frame_attention', 'relative_attention',
    'resolve_label'
]
