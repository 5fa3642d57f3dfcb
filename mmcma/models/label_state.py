"""Per-label state as model state: one protocol for every module.

Some modules need arrays computed from the training set's labels before they
can run: the CMA head needs label embeddings, the class-imbalance loss needs
label frequencies, GCN heads need a label graph. Such a module inherits
:class:`LabelStateMixin` and declares each array with
:meth:`~LabelStateMixin.declare_label_state`. The arrays are persistent
buffers named ``label_{name}`` (with a ``label_{name}_ready`` flag), so
checkpoints carry them and testing needs no training data.

:func:`mmcma.apis.fill_label_state` fills every such module of a model from
a training dataset, a label matrix or a :class:`~mmcma.labels.LabelState`;
the pre-run hook (:class:`~mmcma.engine.hooks.LabelStateHook`), the command
line tools, benchmarks and notebooks all go through it. Using an array that
was never filled raises an error naming it.

The arrays a module can declare (:data:`mmcma.labels.LABEL_ARRAYS`):

- ``embedding``: (N, D) label embeddings (ASGE, word vectors, a file);
- ``frequency``: (N,) fraction of training samples carrying each label;
- ``graph``: (N, N) label graph (the kind the label-state options choose),
  with the normalisation it carries (``label_graph_normalization``, an index
  into :data:`mmcma.labels.adjacency.NORMALIZATIONS`), so a GCN applies only
  what is missing (:func:`mmcma.labels.propagation_graph`).
"""
from typing import Dict, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from ..labels.adjacency import NORMALIZATIONS
from ..labels.state import LABEL_ARRAYS
from .sparse_label_graph import (graph_layout, graph_tensor,
                                 keeps_graph_sparse, keeps_sparse_storage,
                                 load_graph_hook, register_sparse_graph,
                                 store_graph)

ArrayLike = Union[np.ndarray, Tensor]


def _as_float_tensor(array: ArrayLike) -> Tensor:
    if sp.issparse(array):  # a sparse label graph: the buffer is dense
        array = sp.csr_matrix(array, dtype=np.float32).toarray()
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

    def declare_label_state(self,
                            name: str,
                            shape: Sequence[int],
                            sparse: Optional[bool] = False) -> None:
        """Register the persistent buffers ``label_{name}`` and its flag.

        Args:
            name (str): One of :data:`LABEL_ARRAYS`.
            shape (Sequence[int]): The array's shape, e.g. ``(N, D)``.
            sparse (bool, optional): For ``'graph'``: False (default) keeps
                a dense (N, N) buffer; True keeps only the non-zero entries
                (:mod:`mmcma.models.sparse_label_graph`); None does so from
                ``SPARSE_MIN_LABELS`` labels on and lets the one rule
                choose the layout of each filled graph.
        """
        assert isinstance(self, nn.Module)
        if name not in LABEL_ARRAYS:
            raise ValueError(f'unknown label array {name!r}: choose from '
                             f'{sorted(LABEL_ARRAYS)}')
        if sparse is not False and name != 'graph':
            raise ValueError(f'only the label graph can be kept sparse, '
                             f'not the {name}')
        if name == 'graph':
            if keeps_graph_sparse(int(shape[0]), sparse):
                register_sparse_graph(self)
                self.graph_always_sparse = sparse is True
            else:
                self.register_buffer('label_graph', torch.zeros(*shape))
            # Validates and converts the graph of a checkpoint, and resizes
            # sparse storage to it (torch's loading cannot).
            self._register_load_state_dict_pre_hook(load_graph_hook,
                                                    with_module=True)
        else:
            self.register_buffer(f'label_{name}', torch.zeros(*shape))
        self.register_buffer(f'label_{name}_ready',
                             torch.zeros((), dtype=torch.bool))
        if name == 'graph':
            self.register_buffer('label_graph_normalization',
                                 torch.zeros((), dtype=torch.uint8))
        declared = dict(getattr(self, '_label_state_shapes', {}))
        declared[name] = tuple(int(s) for s in shape)
        self._label_state_shapes = declared

    def label_state_shapes(self) -> Dict[str, Tuple[int, ...]]:
        """Declared arrays and their shapes, e.g. ``{'embedding': (80, 256)}``.
        """
        return dict(getattr(self, '_label_state_shapes', {}))

    def set_label_state(self,
                        name: str,
                        value: ArrayLike,
                        normalization: Optional[str] = None) -> None:
        """Copy ``value`` into ``label_{name}`` after validating it.

        Args:
            name (str): A declared array.
            value (np.ndarray | Tensor): Its value.
            normalization (str, optional): For ``'graph'``: the
                normalisation the graph carries (one of
                :data:`~mmcma.labels.adjacency.NORMALIZATIONS`). Defaults
                to ``'none'`` (a raw graph).

        Raises:
            KeyError: The module did not declare ``name``.
            ValueError: See :func:`check_label_array`; a normalisation for
                another array than the graph, or an unknown one.
        """
        if normalization is not None and name != 'graph':
            raise ValueError(f'only the label graph carries a normalisation, '
                             f'not the {name}')
        normalization = normalization or 'none'
        if normalization not in NORMALIZATIONS:
            raise ValueError(f'graph normalisation must be one of '
                             f'{NORMALIZATIONS}, got {normalization!r}')
        shapes = self.label_state_shapes()
        if name not in shapes:
            raise KeyError(f'{type(self).__name__} has no label array '
                           f'{name!r} (it declares {sorted(shapes)})')
        if name == 'graph' and keeps_sparse_storage(self):
            self._set_sparse_graph(value, shapes[name])
        else:
            self._set_dense_array(name, value, shapes[name])
        getattr(self, f'label_{name}_ready').fill_(True)
        if name == 'graph':
            self.label_graph_normalization.fill_(
                NORMALIZATIONS.index(normalization))

    def _set_dense_array(self, name: str, value: ArrayLike,
                         shape: Tuple[int, ...]) -> None:
        value = _as_float_tensor(value)
        try:
            check_label_array(name, value, shape)
        except ValueError as e:
            raise ValueError(f'{type(self).__name__}: {e}') from None
        buffer = getattr(self, f'label_{name}')
        buffer.copy_(value.to(buffer.device))

    def _set_sparse_graph(self, value, shape: Tuple[int, ...]) -> None:
        if tuple(value.shape) != tuple(shape):
            raise ValueError(f'{type(self).__name__}: {LABEL_ARRAYS["graph"]}'
                             f': expected shape {tuple(shape)}, got '
                             f'{tuple(value.shape)}')
        dense, indices, values = graph_layout(value, self.graph_always_sparse)
        try:
            check_label_array('graph', values if dense is None else dense,
                              values.shape if dense is None else shape)
        except ValueError as e:
            raise ValueError(f'{type(self).__name__}: {e}') from None
        store_graph(self, dense, indices, values)

    def graph_normalization(self) -> str:
        """The normalisation the filled label graph carries."""
        code = int(self.label_graph_normalization)
        if code >= len(NORMALIZATIONS):
            raise RuntimeError(f'{type(self).__name__}: unknown label graph '
                               f'normalisation code {code}; the checkpoint '
                               'is broken')
        return NORMALIZATIONS[code]

    def is_label_state_ready(self, name: str) -> bool:
        """Whether ``label_{name}`` was filled (or loaded from a checkpoint).
        """
        return bool(getattr(self, f'label_{name}_ready'))

    def label_state(self, name: str) -> Tensor:
        """The filled array ``label_{name}``; a graph kept sparse as a
        coalesced sparse COO tensor (N, N).

        Raises:
            RuntimeError: It was never filled, or a checkpoint marked it
                filled but it is all zero or not finite.
        """
        if not self.is_label_state_ready(name):
            raise RuntimeError(
                f'{type(self).__name__} needs {LABEL_ARRAYS[name]}, which '
                'were never filled. Add LabelStateHook to the config '
                '(custom_hooks) so they are computed before training, load a '
                'checkpoint that carries them, or call '
                'mmcma.fill_label_state(model, ...) yourself.')
        value = graph_tensor(self) if name == 'graph' and \
            keeps_sparse_storage(self) else getattr(self, f'label_{name}')
        entries = value.values() if value.is_sparse else value
        # Validate once per change of the buffer (a checkpoint load copies
        # into it in place, which bumps its version), not at every forward.
        checked = self.__dict__.setdefault('_label_state_checked', {})
        stamp = (entries.data_ptr(), entries._version, value.layout)
        if checked.get(name) != stamp:
            try:
                check_label_array(name, entries, entries.shape)
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
