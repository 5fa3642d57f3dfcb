from .attention import (overlay_attention, plot_frame_attention,
                        plot_image_attention, resolve_label)

__all__ = [
    'overlay_attention', 'plot_frame_attention', 'plot_image_attention',
    'resolve_label'
]
