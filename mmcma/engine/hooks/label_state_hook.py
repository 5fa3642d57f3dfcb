"""The pre-run hook: fill the model's label state before training."""
import os.path as osp
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS

from mmcma.apis.label_state import fill_label_state
from mmcma.labels import describe
from mmcma.models.label_state import (label_state_modules,
                                      label_state_requirements)


@HOOKS.register_module()
class LabelStateHook(Hook):
    """Compute the label state of the train set and fill the model with it.

    Before the first training iteration (after weights are initialised or a
    checkpoint is resumed) the hook asks the model which label arrays its
    modules declare (:class:`~mmcma.models.LabelStateMixin`: embeddings,
    frequencies, graph), reads the train set's label matrix from its
    annotations (no image is decoded), computes those arrays
    and copies them into the model: :func:`mmcma.apis.fill_label_state`,
    the same call as outside a Runner. They are buffers, so
    checkpoints carry them and ``tools/test.py`` needs no training data.

    When a run is resumed and the checkpoint already filled every array,
    they are kept: a resumed run continues with the state it started with,
    even in a fresh work dir. Results are cached as
    ``{work_dir}/label_state/{key}.npz`` (``key`` hashes the labels and
    options); a corrupt or mismatching file is recomputed with a warning. In
    distributed training rank 0 computes and the others receive its result.

    Args:
        graph (dict, optional): Options of :func:`mmcma.build_label_graph`,
            e.g. ``dict(kind='conditional')`` (default).
        embedding (dict, optional): Embedding source and its options:
            ``dict(type='asge', alpha=0.1, seed=0)`` (default ASGE) or
            ``dict(type='file', path='emb.npy')``.
        cache (bool): Cache results in the work dir. Defaults to True.
        progress (bool): Show a progress bar while fitting. Defaults to True.
    """
    priority = 'VERY_HIGH'

    def __init__(self,
                 graph: Optional[dict] = None,
                 embedding: Optional[dict] = None,
                 cache: bool = True,
                 progress: bool = True):
        self.graph = dict(graph or {})
        self.embedding = dict(embedding or {})
        self.cache = cache
        self.progress = progress

    def before_train(self, runner) -> None:
        model = runner.model
        if not label_state_requirements(model):
            print_log('LabelStateHook: no module of the model declares label '
                      'state; nothing to do.', logger='current')
            return
        if getattr(runner, '_resume', False) and all(
                module.is_label_state_ready(name)
                for _, module in label_state_modules(model)
                for name in module.label_state_shapes()):
            print_log('LabelStateHook: resumed; keeping the label state of '
                      'the checkpoint.', logger='current')
            return
        cache_dir = (osp.join(runner.work_dir, 'label_state')
                     if self.cache else None)
        state = fill_label_state(model, runner.train_dataloader.dataset,
                                 graph=self.graph, embedding=self.embedding,
                                 cache_dir=cache_dir, progress=self.progress)
        print_log('LabelStateHook:\n' + describe(state), logger='current')
