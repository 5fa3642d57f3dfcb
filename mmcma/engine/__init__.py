from .hooks import LabelStateHook, RandomStateHook

__all__ = ['LabelStateHook', 'RandomStateHook']
