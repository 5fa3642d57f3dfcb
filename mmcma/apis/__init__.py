"""Filling label state, inference and export of multi-label models."""
from ..models.utils.label_rule import select_labels
from .errors import (USER_ERRORS, InferenceInputError, InferenceTypeError,
                     MissingInputError)
from .inferencer import MultiLabelInferencer
from .io import expand_inputs, patch_records, to_json, unique_names
from .label_state import apply_label_state, fill_label_state
from .model import class_names, init_model

__all__ = [
    'apply_label_state', 'fill_label_state',
    'MultiLabelInferencer', 'class_names', 'expand_inputs', 'init_model',
    'patch_records', 'select_labels', 'to_json', 'unique_names',
    'USER_ERRORS', 'InferenceInputError', 'InferenceTypeError',
    'MissingInputError'
]
