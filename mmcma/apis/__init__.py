"""Inference and export of trained multi-label models."""
from .inferencer import (MultiLabelInferencer, expand_inputs, select_labels,
                         to_json)
from .model import class_names, init_model

__all__ = [
    'MultiLabelInferencer', 'class_names', 'expand_inputs', 'init_model',
    'select_labels', 'to_json'
]
