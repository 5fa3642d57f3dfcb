"""Test instrument for tests/test_distributed.py, imported by its config.

Counts the calls of ``compute_label_semantics`` made by
:class:`~mmcma.LabelEmbeddingHook` in this process and, after training,
writes ``{work_dir}/probe_rank{R}.json`` with that count and the model's
label-embedding buffers, so that the test sees every rank's state.
"""
import json
import os.path as osp

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

import mmcma.engine.hooks.label_embedding_hook as label_embedding_hook
from mmcma.models.label_embedding import modules_needing_label_embedding

_calls = []
_compute = label_embedding_hook.compute_label_semantics


def _counting_compute(*args, **kwargs):
    _calls.append(get_rank())
    return _compute(*args, **kwargs)


label_embedding_hook.compute_label_semantics = _counting_compute


@HOOKS.register_module()
class LabelStateProbe(Hook):
    """Write this rank's label-embedding buffers after training."""

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        state = dict(
            computed=len(_calls),
            embeddings={name: module.label_embedding.tolist()
                        for name, module in
                        modules_needing_label_embedding(model)})
        path = osp.join(runner.work_dir, f'probe_rank{get_rank()}.json')
        with open(path, 'w') as f:
            json.dump(state, f)
