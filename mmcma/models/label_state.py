"""Per-label state as model state: one protocol for every module.

Some modules need arrays computed from the training set's labels before they
can run: the CMA head needs label embeddings, the class-imbalance loss needs
label frequencies, GCN heads need a label graph. Such a module inherits
:class:`LabelStateMixin` and declares each array with
:meth:`~LabelStateMixin.declare_label_state`. The arrays are persistent
buffers named ``label_{name}`` (with a ``label_{name}_ready`` flag), so
checkpoints carry them and testing needs no training data.

:func:`fill_label_state` fills every such module of a model from a training
dataset, a label matrix or a :class:`~mmcma.embedding.LabelState` (what
:func:`~mmcma.embedding.compute_label_state` makes from a label matrix); the
pre-run hook (:class:`~mmcma.engine.hooks.LabelStateHook`), the command line
tools, benchmarks and notebooks all go through it. Using an array that was
never filled raises an error naming it.

The arrays a module can declare (``LABEL_ARRAYS``):

- ``embedding``: (N, D) label embeddings (ASGE, or read from a file);
- ``frequency``: (N,) fraction of training samples carrying each label;
- ``graph``: (N, N) label graph (the kind the label-state options choose).
"""
from typing import Dict, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

from mmcma.datasets.label_matrix import get_label_matrix
from mmcma.embedding.label_state import LabelState, cached_label_state

#: Arrays a module can declare, with a short description for messages.
LABEL_ARRAYS = {
    'embedding': 'label embeddings (N, D)',
    'frequency': 'label frequencies (N,)',
    'graph': 'label graph (N, N)',
}

ArrayLike = Union[np.ndarray, Tensor]


def _as_float_tensor(array: ArrayLike) -> Tensor:
    if isinstance(array, np.ndarray):
        array = torch.from_numpy(np.asarray(array, dtype=np.float32))
    return torch.as_tensor(array).detach().float()


def check_label_array(name: str, value: Tensor,
                      shape: Sequence[int]) -> None:
    """Validate one label-state array where it enters a module.

    Args:
        name (str): One of :data:`LABEL_ARRAYS`.
        value (Tensor): The array.
        shape (Sequence[int]): The shape the module declared.

    Raises:
        ValueError: Wrong shape, NaN or inf, an all-zero embedding matrix or
            graph, or frequencies outside [0, 1].
    """
    what = LABEL_ARRAYS[name]
    if tuple(value.shape) != tuple(shape):
        raise ValueError(f'{what}: expected shape {tuple(shape)}, got '
                         f'{tuple(value.shape)}')
    if not torch.isfinite(value).all():
        raise ValueError(f'{what} contain NaN or inf')
    if name in ('embedding', 'graph') and not value.any():
        raise ValueError(f'{what} are all zero: nothing was fitted or read')
    if name in ('frequency', 'graph') and ((value < 0).any() or
                                           (value > 1).any()):
        raise ValueError(f'{what} must lie in [0, 1], got values in '
                         f'[{value.min().item():g}, {value.max().item():g}]')


class LabelStateMixin:
    """Declares, stores and hands out per-label arrays of a module.

    Call :meth:`declare_label_state` in ``__init__`` after ``nn.Module`` is
    initialised. Buffers start as zeros and not ready; reading one with
    :meth:`label_state` before it is filled raises.
    """

    def declare_label_state(self, name: str, shape: Sequence[int]) -> None:
        """Register the persistent buffers ``label_{name}`` and its flag.

        Args:
            name (str): One of :data:`LABEL_ARRAYS`.
            shape (Sequence[int]): The array's shape, e.g. ``(N, D)``.
        """
        assert isinstance(self, nn.Module)
        if name not in LABEL_ARRAYS:
            raise ValueError(f'unknown label array {name!r}: choose from '
                             f'{sorted(LABEL_ARRAYS)}')
        self.register_buffer(f'label_{name}', torch.zeros(*shape))
        self.register_buffer(f'label_{name}_ready',
                             torch.zeros((), dtype=torch.bool))
        declared = dict(getattr(self, '_label_state_shapes', {}))
        declared[name] = tuple(int(s) for s in shape)
        self._label_state_shapes = declared

    def label_state_shapes(self) -> Dict[str, Tuple[int, ...]]:
        """Declared arrays and their shapes, e.g. ``{'embedding': (80, 256)}``.
        """
        return dict(getattr(self, '_label_state_shapes', {}))

    def set_label_state(self, name: str, value: ArrayLike) -> None:
        """Copy ``value`` into ``label_{name}`` after validating it.

        Raises:
            KeyError: The module did not declare ``name``.
            ValueError: See :func:`check_label_array`.
        """
        shapes = self.label_state_shapes()
        if name not in shapes:
            raise KeyError(f'{type(self).__name__} has no label array '
                           f'{name!r} (it declares {sorted(shapes)})')
        value = _as_float_tensor(value)
        try:
            check_label_array(name, value, shapes[name])
        except ValueError as e:
            raise ValueError(f'{type(self).__name__}: {e}') from None
        buffer = getattr(self, f'label_{name}')
        buffer.copy_(value.to(buffer.device))
        getattr(self, f'label_{name}_ready').fill_(True)

    def is_label_state_ready(self, name: str) -> bool:
        """Whether ``label_{name}`` was filled (or loaded from a checkpoint).
        """
        return bool(getattr(self, f'label_{name}_ready'))

    def label_state(self, name: str) -> Tensor:
        """The filled array ``label_{name}``.

        Raises:
            RuntimeError: It was never filled, or a checkpoint marked it
                filled but it is all zero or not finite.
        """
        value = getattr(self, f'label_{name}')
        if not self.is_label_state_ready(name):
            raise RuntimeError(
                f'{type(self).__name__} needs {LABEL_ARRAYS[name]}, which '
                'were never filled. Add LabelStateHook to the config '
                '(custom_hooks) so they are computed before training, load a '
                'checkpoint that carries them, or call '
                'mmcma.fill_label_state(model, ...) yourself.')
        # Validate once per change of the buffer (a checkpoint load copies
        # into it in place, which bumps its version), not at every forward.
        checked = self.__dict__.setdefault('_label_state_checked', {})
        stamp = (value.data_ptr(), value._version)
        if checked.get(name) != stamp:
            try:
                check_label_array(name, value, value.shape)
            except ValueError as e:
                raise RuntimeError(
                    f'{type(self).__name__}: the {LABEL_ARRAYS[name]} marked '
                    f'as filled are unusable ({e}); the checkpoint or the '
                    'filling code is broken') from None
            checked[name] = stamp
        return value


def label_state_modules(
        model: nn.Module) -> Iterator[Tuple[str, LabelStateMixin]]:
    """Yield ``(name, module)`` for every sub-module declaring label state.
    """
    for name, module in model.named_modules():
        if isinstance(module, LabelStateMixin) and \
                module.label_state_shapes():
            yield name, module


def label_state_requirements(model: nn.Module) -> Dict[str, Tuple[int, ...]]:
    """The arrays a model needs, each with its one shape.

    Raises:
        ValueError: Two modules ask for one array with different shapes.
    """
    needs: Dict[str, Tuple[int, ...]] = {}
    for module_name, module in label_state_modules(model):
        for name, shape in module.label_state_shapes().items():
            if needs.setdefault(name, shape) != shape:
                raise ValueError(
                    f'modules of the model ask for {LABEL_ARRAYS[name]} of '
                    f'different shapes: {needs[name]} and {shape} '
                    f'({module_name or "the model"})')
    return needs


def apply_label_state(model: nn.Module,
                      state: LabelState) -> Dict[str, Tuple[int, ...]]:
    """Copy the arrays of ``state`` into every module that declares them.

    Args:
        model (nn.Module): Any model; modules without label state are left
            alone.
        state (LabelState): Arrays from :func:`compute_label_state`.

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
            module.set_label_state(name, arrays[name])
    return needs


def fill_label_state(model: nn.Module,
                     source: Union[LabelState, np.ndarray, object],
                     classes: Optional[Sequence[str]] = None,
                     graph: Optional[dict] = None,
                     embedding: Optional[dict] = None,
                     cache_dir: Optional[str] = None,
                     progress: bool = True) -> LabelState:
    """Fill every module of ``model`` that declares label state.

    What the hook does before training, as one call for notebooks,
    benchmarks and tools::

        model = mmpretrain.get_model(cfg)        # or MODELS.build(...)
        mmcma.fill_label_state(model, train_dataset)

    Args:
        model (nn.Module): The model.
        source: A training dataset (anything
            :func:`~mmcma.datasets.get_label_matrix` reads: mmcma's and
            mmpretrain's multi-label datasets, their Concat/Repeat
            wrappers), an (S, N) binary label matrix, or a ready
            :class:`~mmcma.embedding.LabelState`.
        classes (Sequence[str], optional): Class names; taken from the
            dataset's metainfo if not given; for a label matrix they
            default to ``'0' .. 'N-1'``.
        graph (dict, optional): Options of :func:`~mmcma.build_label_graph`.
        embedding (dict, optional): Embedding source and options, e.g.
            ``dict(type='asge', seed=0)`` (default) or
            ``dict(type='file', path='emb.npy')``.
        cache_dir (str, optional): Reuse/keep results in this folder.
        progress (bool): Show a progress bar while fitting.

    Returns:
        LabelState: What was filled in.
    """
    if not isinstance(source, LabelState):
        if isinstance(source, (np.ndarray, Tensor)):
            labels = np.asarray(source)
            if classes is None and labels.ndim == 2:
                classes = [str(i) for i in range(labels.shape[1])]
        else:
            labels = get_label_matrix(source)
            if classes is None:
                classes = tuple(source.metainfo['classes'])
        source = cached_label_state(labels, classes,
                                    label_state_requirements(model), graph,
                                    embedding, cache_dir, progress)
    apply_label_state(model, source)
    return source
