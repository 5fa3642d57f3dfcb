"""Inference and export of trained multi-label models."""
from ..models.utils.label_rule import select_labels
from .errors import (USER_ERRORS, InferenceInputError, InferenceTypeError,
                     MissingInputError)
from .inferencer import MultiLabelInferencer
from .io import expand_inputs, patch_records, to_json, unique_names
from .model import class_names, init_model

__all__ = [
    'MultiLabelInferencer', 'class_names', 'expand_inputs', 'init_model',
    'patch_records', 'select_labels', 'to_json', 'unique_names',
    'USER_ERRORS', 'InferenceInputError', 'InferenceTypeError',
    'MissingInputError'
]
