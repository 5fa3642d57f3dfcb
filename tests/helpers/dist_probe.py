"""Test instrument for tests/test_distributed.py, imported by its config.

Counts the calls of ``cached_label_state`` (compute or read the label
state) that :class:`~mmcma.engine.hooks.LabelStateHook` makes in this process
and, after training, writes ``{work_dir}/probe_rank{R}.json`` with that count
and the model's label-state buffers, so that the test sees every rank's state.
"""
import json
import os.path as osp

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

import mmcma.apis.label_state as label_state_fill
from mmcma.models.label_state import label_state_modules

_calls = []
_cached_label_state = label_state_fill.cached_label_state


def _counting(*args, **kwargs):
    _calls.append(get_rank())
    return _cached_label_state(*args, **kwargs)


label_state_fill.cached_label_state = _counting


@HOOKS.register_module()
class LabelStateProbe(Hook):
    """Write this rank's label-state buffers after training."""

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        state = {
            f'{module_name}.{name}': module.label_state(name).tolist()
            for module_name, module in label_state_modules(model)
            for name in module.label_state_shapes()
        }
        path = osp.join(runner.work_dir, f'probe_rank{get_rank()}.json')
        with open(path, 'w') as f:
            json.dump(dict(computed=len(_calls), state=state), f)
