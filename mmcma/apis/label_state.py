"""Fill a model's label state from a dataset, a label matrix or a state.

The one fill: the pre-run hook (:class:`~mmcma.engine.hooks.LabelStateHook`),
the command-line tools, benchmarks and notebooks all call
:func:`fill_label_state`. It sits above :mod:`mmcma.datasets` (it reads a
dataset's label matrix), :mod:`mmcma.labels` (it computes the arrays) and
:mod:`mmcma.models` (it asks the model what it declares).
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dist import broadcast_object_list, get_rank, get_world_size
from torch import Tensor, nn

from ..datasets.label_matrix import get_label_matrix
from ..labels.state import LABEL_ARRAYS, LabelState, cached_label_state
from ..models.label_state import label_state_modules, label_state_requirements


def apply_label_state(model: nn.Module,
                      state: LabelState) -> Dict[str, Tuple[int, ...]]:
    """Copy the arrays of ``state`` into every module that declares them.

    Args:
        model (nn.Module): Any model; modules without label state are left
            alone.
        state (LabelState): Arrays from
            :func:`~mmcma.labels.compute_label_state`.

    Returns:
        dict: The arrays filled and their shapes (empty if the model needs
        none).

    Raises:
        ValueError: ``state`` lacks an array the model needs, or its shape
            or values are wrong.
    """
    needs = label_state_requirements(model)
    arrays = {name: state.array(name) for name in needs}
    missing = [name for name, value in arrays.items() if value is None]
    if missing:
        raise ValueError(
            'the label state lacks '
            f'{", ".join(LABEL_ARRAYS[name] for name in missing)} that the '
            'model needs: compute it with the model\'s requirements '
            '(mmcma.label_state_requirements(model))')
    for _, module in label_state_modules(model):
        for name in module.label_state_shapes():
            module.set_label_state(
                name, arrays[name],
                state.graph_normalization if name == 'graph' else None)
    return needs


def _check_class_count(needs: Dict[str, Tuple[int, ...]],
                       classes: Sequence[str], source: str) -> None:
    num_labels = {shape[0] for shape in needs.values()}
    if num_labels and num_labels != {len(classes)}:
        raise ValueError(
            f'the model has {sorted(num_labels)[0]} classes but {source} has '
            f'{len(classes)}: set num_classes in the model (head, loss, data '
            'preprocessor) to the number of classes of the dataset')


def fill_label_state(model: nn.Module,
                     source: Union[LabelState, np.ndarray, object],
                     classes: Optional[Sequence[str]] = None,
                     graph: Optional[dict] = None,
                     embedding: Optional[dict] = None,
                     cache_dir: Optional[str] = None,
                     progress: bool = True) -> Optional[LabelState]:
    """Fill every module of ``model`` that declares label state.

    What the hook does before training, as one call for notebooks,
    benchmarks and tools::

        model = mmpretrain.get_model(cfg)        # or MODELS.build(...)
        mmcma.fill_label_state(model, train_dataset)

    In a distributed run (mmengine's process group initialised) rank 0
    computes the state and every rank receives it.

    Args:
        model (nn.Module): The model.
        source: A training dataset (anything
            :func:`~mmcma.datasets.get_label_matrix` reads: mmcma's and
            mmpretrain's multi-label datasets, their Concat/Repeat
            wrappers), an (S, N) binary label matrix, or a ready
            :class:`~mmcma.labels.LabelState`.
        classes (Sequence[str], optional): Class names; taken from the
            dataset's metainfo if not given; for a label matrix they
            default to ``'0' .. 'N-1'``.
        graph (dict, optional): Options of
            :func:`~mmcma.labels.build_label_graph`.
        embedding (dict, optional): Embedding source and options, e.g.
            ``dict(type='asge', seed=0)`` (default) or
            ``dict(type='file', path='emb.npy')``.
        cache_dir (str, optional): Reuse/keep results in this folder.
        progress (bool): Show a progress bar while fitting.

    Returns:
        LabelState: What was filled in, or None when no module of the model
        declares label state.

    Raises:
        ValueError: The model's class count differs from the data's; see
            also :func:`apply_label_state`.
    """
    needs = label_state_requirements(model)
    if not needs:
        return None
    if not isinstance(source, LabelState):
        origin = 'the label matrix'
        if isinstance(source, (np.ndarray, Tensor)):
            labels = np.asarray(source)
            if classes is None and labels.ndim == 2:
                classes = [str(i) for i in range(labels.shape[1])]
        else:
            origin = f'the dataset {type(source).__name__}'
            if classes is None:
                classes = tuple(source.metainfo['classes'])
            labels = None
        _check_class_count(needs, classes, origin)
        state = [None]
        if get_rank() == 0:
            if labels is None:
                labels = get_label_matrix(source)
            state[0] = cached_label_state(labels, classes, needs, graph,
                                          embedding, cache_dir, progress)
        if get_world_size() > 1:
            broadcast_object_list(state, src=0)
        source = state[0]
    apply_label_state(model, source)
    return source
