from .label_state_hook import LabelStateHook
from .random_state_hook import RandomStateHook

__all__ = ['LabelStateHook', 'RandomStateHook']
