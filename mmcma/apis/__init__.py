"""Filling label state, inference and export of multi-label models."""
from .inferencer import MultiLabelInferencer
from .label_state import apply_label_state, fill_label_state
from .io import expand_inputs, patch_records, select_labels, to_json
from .model import class_names, init_model

__all__ = [
    'apply_label_state', 'fill_label_state',
    'MultiLabelInferencer', 'class_names', 'expand_inputs', 'init_model',
    'patch_records', 'select_labels', 'to_json'
]
