from . import (backbones, classifiers, dense_heads,  # noqa: F401
               heads, losses, necks, roi_heads, task_modules, tta)
from .capabilities import (FEATURE_INPUT, IMAGE_INPUT, Capabilities,
                           ExportRefusal, InputKind, ShowsAttention,
                           ShowsPatches, model_capabilities)
from .label_state import (LabelStateMixin, label_state_modules,
                          label_state_requirements)
from .tta import MultiLabelScoreTTA

__all__ = [
    'FEATURE_INPUT', 'IMAGE_INPUT', 'Capabilities', 'ExportRefusal',
    'InputKind', 'ShowsAttention', 'ShowsPatches', 'model_capabilities',
    'LabelStateMixin', 'label_state_modules', 'label_state_requirements',
    'MultiLabelScoreTTA'
]
