"""The pre-run hook: fill the model's label state before training."""
import os.path as osp
from typing import Optional

from mmengine.dist import broadcast_object_list, get_rank
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS

from mmcma.datasets import get_label_matrix
from mmcma.embedding import cached_label_state, describe
from mmcma.models.label_state import (apply_label_state, label_state_modules,
                                      label_state_requirements)


@HOOKS.register_module()
class LabelStateHook(Hook):
    """Compute the label state of the train set and fill the model with it.

    Before the first training iteration (after weights are initialised or a
    checkpoint is resumed) the hook asks the model which label arrays its
    modules declare (:class:`~mmcma.models.LabelStateMixin`: embeddings,
    frequencies, graph), reads the train set's label matrix from its
    annotations (no image is decoded), computes those arrays
    (:func:`~mmcma.embedding.compute_label_state`) and copies them into the
    model (:func:`~mmcma.models.apply_label_state`). They are buffers, so
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
        needs = label_state_requirements(model)
        if not needs:
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
        dataset = runner.train_dataloader.dataset
        classes = tuple(dataset.metainfo['classes'])
        num_labels = {shape[0] for shape in needs.values()}
        if num_labels != {len(classes)}:
            raise ValueError(
                f'the model has {sorted(num_labels)[0]} classes but the train '
                f'dataset {type(dataset).__name__} has {len(classes)}: set '
                'num_classes in the model (head, loss, data preprocessor) to '
                'the number of classes of the dataset')
        state = [None]
        if get_rank() == 0:
            cache_dir = (osp.join(runner.work_dir, 'label_state')
                         if self.cache else None)
            state[0] = cached_label_state(
                get_label_matrix(dataset), classes, needs, self.graph,
                self.embedding, cache_dir, self.progress)
            print_log('LabelStateHook:\n' + describe(state[0]),
                      logger='current')
        broadcast_object_list(state, src=0)
        apply_label_state(model, state[0])
