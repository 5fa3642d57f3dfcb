"""The pre-run hook: label graph and label embeddings before training."""
import os.path as osp
from typing import List, Optional

import numpy as np
import torch
from mmengine.dist import broadcast, get_rank
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS

from mmcma.datasets import get_label_matrix
from mmcma.label_semantics import (LabelSemantics, compute_label_semantics,
                                   describe, semantics_key)
from mmcma.models.label_embedding import modules_needing_label_embedding


def _modules_needing_label_freq(model: torch.nn.Module) -> List:
    return [m for m in model.modules()
            if getattr(m, 'requires_label_frequency', False)]


@HOOKS.register_module()
class LabelEmbeddingHook(Hook):
    """Build the label graph and label embeddings before training.

    Before the first training iteration (after weights are initialised or a
    checkpoint is resumed) the hook

    1. reads the label matrix of the runner's train dataset from its
       annotations (no image is decoded),
    2. counts labels, builds the label graph and fits ASGE embeddings of the
       size the model asks for (or reads them from ``embedding_file``),
    3. copies the embeddings into every module of the model that declares
       ``requires_label_embedding`` (a persistent buffer: checkpoints carry
       them, so ``tools/test.py`` needs no training data) and the label
       frequencies p_k into every module declaring ``requires_label_frequency``
       (the class-imbalance loss).

    The result is cached as ``{work_dir}/label_semantics/{key}.npz``, ``key``
    hashing the labels and options: a resumed or repeated run reuses it; a
    corrupt or mismatching file is recomputed with a warning. In distributed
    training only rank 0 computes and writes; the others receive the same
    tensors by broadcast.

    Args:
        graph (dict, optional): Options of :func:`mmcma.build_label_graph`,
            e.g. ``dict(kind='conditional')`` (default).
        asge (dict, optional): Options of :func:`mmcma.fit_asge`, e.g.
            ``dict(alpha=0.1, seed=0)``.
        embedding_file (str, optional): Use the (N, D) array in this
            ``.npy``/``.npz`` instead of fitting ASGE.
        cache (bool): Cache results in the work dir. Defaults to True.
        progress (bool): Show a progress bar while fitting. Defaults to True.
    """
    priority = 'VERY_HIGH'

    def __init__(self,
                 graph: Optional[dict] = None,
                 asge: Optional[dict] = None,
                 embedding_file: Optional[str] = None,
                 cache: bool = True,
                 progress: bool = True):
        self.graph = dict(graph or {})
        self.asge = dict(asge or {})
        self.embedding_file = embedding_file
        self.cache = cache
        self.progress = progress

    def before_train(self, runner) -> None:
        model = runner.model
        targets = [m for _, m in modules_needing_label_embedding(model)]
        freq_targets = _modules_needing_label_freq(model)
        if not targets and not freq_targets:
            print_log('LabelEmbeddingHook: no module of the model needs '
                      'label embeddings or frequencies; nothing to do.',
                      logger='current')
            return
        dims = {int(m.label_embedding.shape[1]) for m in targets}
        nums = {int(m.label_embedding.shape[0]) for m in targets}
        if len(dims) > 1 or len(nums) > 1:
            raise ValueError('modules of the model ask for label embeddings '
                             f'of different shapes: N in {nums}, D in {dims}')
        embed_dim = dims.pop() if dims else 1

        dataset = runner.train_dataloader.dataset
        classes = tuple(dataset.metainfo['classes'])
        if nums and nums != {len(classes)}:
            raise ValueError(
                f'the model has {nums.pop()} classes but the train dataset '
                f'{type(dataset).__name__} has {len(classes)}')

        if get_rank() == 0:
            sem = self._compute_or_load(runner, dataset, classes, embed_dim)
            payload = torch.from_numpy(
                np.concatenate([sem.embeddings.ravel(),
                                sem.label_freq]).astype(np.float32))
        else:
            payload = torch.zeros(len(classes) * (embed_dim + 1))
        broadcast(payload, src=0)
        payload = payload.cpu()
        n = len(classes)
        embeddings = payload[:n * embed_dim].view(n, embed_dim)
        label_freq = payload[n * embed_dim:]
        for module in targets:
            module.set_label_embedding(embeddings)
        for module in freq_targets:
            module.set_label_frequency(label_freq)

    def _compute_or_load(self, runner, dataset, classes,
                         embed_dim: int) -> LabelSemantics:
        labels = get_label_matrix(dataset)
        key = semantics_key(labels, classes, embed_dim, self.graph,
                            self.asge, self.embedding_file)
        path = osp.join(runner.work_dir, 'label_semantics', f'{key}.npz')
        if self.cache and osp.exists(path):
            try:
                sem = LabelSemantics.load(path)
                if sem.key != key or sem.embeddings.shape != (len(classes),
                                                              embed_dim):
                    raise ValueError(f'{path}: made for other labels/options')
                print_log(f'LabelEmbeddingHook: reusing {path}',
                          logger='current')
                return sem
            except ValueError as e:
                print_log(f'LabelEmbeddingHook: cache unusable, recomputing '
                          f'({e})', logger='current', level=30)
        sem = compute_label_semantics(
            labels, classes, embed_dim, graph=self.graph, asge=self.asge,
            embedding_file=self.embedding_file, progress=self.progress)
        print_log('LabelEmbeddingHook:\n' + describe(sem), logger='current')
        if self.cache:
            sem.save(path)
            print_log(f'LabelEmbeddingHook: saved {path}', logger='current')
        return sem
