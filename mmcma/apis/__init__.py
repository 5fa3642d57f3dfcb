"""Inference and export of trained multi-label models."""
from .inferencer import MultiLabelInferencer
from .io import expand_inputs, patch_records, select_labels, to_json
from .model import class_names, init_model

__all__ = [
    'MultiLabelInferencer', 'class_names', 'expand_inputs', 'init_model',
    'patch_records', 'select_labels', 'to_json'
]
