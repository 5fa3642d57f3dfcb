from .label_state_hook import LabelStateHook
from .random_state_hook import RandomStateHook
from .visualization_hook import MultiLabelVisualizationHook

__all__ = ['LabelStateHook', 'MultiLabelVisualizationHook', 'RandomStateHook']
