"""A module's label graph kept sparse: only its non-zero entries as buffers.

A dense (N, N) float32 graph buffer takes 369 MB at N = 9,605 labels, in
memory and in every checkpoint, while the thresholded graphs there have a
few edges per label. A module declaring the graph with sparse storage
(:meth:`~mmcma.models.LabelStateMixin.declare_label_state` with
``sparse=True``, or ``sparse=None`` from
:data:`~mmcma.labels.square_arrays.SPARSE_MIN_LABELS` labels) holds three
persistent buffers, like the label state file's square arrays
(:mod:`mmcma.labels.square_arrays`):

- ``label_graph``: the dense (N, N) graph, or (0, 0) when it is kept sparse;
- ``label_graph_indices``: (2, nnz) int64, row and column of each non-zero
  entry (row-major order, no repeats), (2, 0) when dense;
- ``label_graph_values``: (nnz,) float32, (0,) when dense.

Which layout a filled graph takes is the one rule of
:func:`~mmcma.labels.square_arrays.sparse_by_rule` (``sparse=None``; a scipy
sparse graph from the label state already passed it) or always sparse
(``sparse=True``). The buffers change size when filled or loaded: a load
pre-hook (:func:`load_graph_hook`) validates the checkpoint's arrays (shapes,
index range, repeats) and resizes the buffers, so strict loading works and
still fails on wrong shapes. A checkpoint whose graph is laid out otherwise
is converted, documented in docs/label_state.md: a dense-only checkpoint
(demo configs, older runs) into sparse storage by the same rule, a sparse
checkpoint into a module with a dense graph buffer densified.
"""
from typing import Dict, Optional, Tuple, Union

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from ..labels.square_arrays import SPARSE_MIN_LABELS, sparse_by_rule

#: The buffers of sparse graph storage (besides ``label_graph``).
SPARSE_GRAPH_BUFFERS = ('label_graph_indices', 'label_graph_values')


def keeps_graph_sparse(num_labels: int, sparse: Optional[bool]) -> bool:
    """Whether a module of ``num_labels`` labels with the option ``sparse``
    (True, False or None: by the rule) gets sparse graph storage. Below
    ``SPARSE_MIN_LABELS`` ``sparse=None`` keeps today's dense buffer, so
    the demo's and papers' checkpoints keep their keys."""
    if sparse not in (None, True, False):
        raise ValueError(f'sparse must be None, True or False, got '
                         f'{sparse!r}')
    return sparse is True or (sparse is None and
                              num_labels >= SPARSE_MIN_LABELS)


def register_sparse_graph(module: nn.Module) -> None:
    """Register the empty buffers of sparse graph storage on ``module``
    (``label_graph`` (0, 0), indices (2, 0), values (0,))."""
    module.register_buffer('label_graph', torch.zeros(0, 0))
    module.register_buffer('label_graph_indices',
                           torch.zeros(2, 0, dtype=torch.long))
    module.register_buffer('label_graph_values', torch.zeros(0))


def graph_layout(value: Union[np.ndarray, Tensor, sp.spmatrix],
                 always_sparse: bool) -> Tuple[Optional[Tensor], Tensor,
                                               Tensor]:
    """``(dense, indices, values)`` of a graph to store: ``dense`` (N, N)
    float32 and empty indices and values, or ``dense`` None and the
    non-zero entries (row-major, explicit zeros dropped)."""
    if sp.issparse(value):
        csr = sp.csr_matrix(value, dtype=np.float32)
        csr.sum_duplicates()
        csr.eliminate_zeros()
        csr.sort_indices()
        coo = csr.tocoo()  # row-major, as a coalesced torch tensor wants
        n = coo.shape[0]
        if always_sparse or sparse_by_rule(n, coo.nnz):
            indices = torch.from_numpy(
                np.vstack([coo.row, coo.col]).astype(np.int64))
            return None, indices, torch.from_numpy(coo.data.copy())
        value = coo.toarray()
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(np.asarray(value, dtype=np.float32))
    dense = torch.as_tensor(value).detach().float()
    if dense.dim() == 2 and (always_sparse or sparse_by_rule(
            dense.size(0), int(torch.count_nonzero(dense)))):
        indices = dense.nonzero().t().contiguous()
        return None, indices, dense[indices[0], indices[1]]
    return dense, torch.zeros(2, 0, dtype=torch.long), torch.zeros(0)


def store_graph(module: nn.Module, dense: Optional[Tensor], indices: Tensor,
                values: Tensor) -> None:
    """Put a :func:`graph_layout` into ``module``'s buffers (their device).
    """
    device = module.label_graph_ready.device
    module.label_graph = torch.zeros(0, 0, device=device) \
        if dense is None else dense.to(device).clone()
    module.label_graph_indices = indices.to(device, torch.long).clone()
    module.label_graph_values = values.to(device, torch.float32).clone()


def graph_tensor(module: nn.Module) -> Tensor:
    """The stored graph: the dense buffer, or a coalesced sparse COO tensor
    (N, N) made once per change of the buffers."""
    dense = module.label_graph
    if dense.numel():
        return dense
    indices, values = module.label_graph_indices, module.label_graph_values
    stamp = (indices.data_ptr(), indices._version, values.data_ptr(),
             values._version, values.device)
    cached = module.__dict__.get('_sparse_graph_cache')
    if cached is None or cached[0] != stamp:
        n = module.label_state_shapes()['graph'][0]
        # The indices were checked when filled or loaded.
        graph = torch.sparse_coo_tensor(indices, values, (n, n),
                                        is_coalesced=True,
                                        check_invariants=False)
        # Keep the buffers alive with the stamp: their addresses cannot
        # be reused by other tensors while the cache compares them.
        cached = (stamp, graph, indices, values)
        module.__dict__['_sparse_graph_cache'] = cached
    return cached[1]


def _check_loaded(indices: Tensor, values: Tensor, n: int,
                  where: str) -> None:
    if indices.dim() != 2 or indices.size(0) != 2 or values.dim() != 1 or \
            values.size(0) != indices.size(1):
        raise RuntimeError(
            f'{where}: sparse label graph arrays of shapes '
            f'{tuple(indices.shape)} and {tuple(values.shape)}; expected '
            '(2, nnz) indices and (nnz,) values')
    if indices.dtype.is_floating_point or indices.dtype == torch.bool:
        raise RuntimeError(f'{where}: label graph indices must be integers, '
                           f'got {indices.dtype}')
    if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= n):
        raise RuntimeError(f'{where}: label graph indices outside [0, {n}): '
                           'the checkpoint was made for another label set')
    flat = indices[0].long() * n + indices[1].long()
    if flat.numel() > 1 and not bool((flat[1:] > flat[:-1]).all()):
        raise RuntimeError(f'{where}: label graph indices repeat or are not '
                           'in row-major order: the checkpoint is broken')


def load_graph_hook(module: nn.Module, state_dict: Dict[str, Tensor],
                    prefix: str, local_metadata, strict: bool, missing_keys,
                    unexpected_keys, error_msgs) -> None:
    """Load pre-hook of a module with a label graph: validate the
    checkpoint's graph arrays, convert another layout, and resize the
    buffers to the checkpoint's, so ``load_state_dict`` copies into them.
    """
    n = module.label_state_shapes()['graph'][0]
    where = f'{type(module).__name__} ({prefix or "model"})'
    key = prefix + 'label_graph'
    sparse_keys = [prefix + name for name in SPARSE_GRAPH_BUFFERS]
    has_sparse = all(k in state_dict for k in sparse_keys)
    if any(k in state_dict for k in sparse_keys) and not has_sparse:
        raise RuntimeError(f'{where}: the checkpoint has only one of '
                           f'{sparse_keys}')
    if key not in state_dict and not has_sparse:
        return  # nothing of the graph: missing keys, reported by torch
    dense = state_dict.get(key, torch.zeros(0, 0))
    if tuple(dense.shape) not in ((n, n), (0, 0)):
        raise RuntimeError(f'{where}: the checkpoint\'s label graph has '
                           f'shape {tuple(dense.shape)}; this model has '
                           f'{n} labels, so ({n}, {n})')
    if has_sparse:
        indices, values = (state_dict[k] for k in sparse_keys)
        _check_loaded(indices, values, n, where)
        if dense.numel() and values.numel():
            raise RuntimeError(f'{where}: the checkpoint holds the label '
                               'graph both dense and sparse')
    if not keeps_sparse_storage(module):
        if has_sparse:  # densify into the dense buffer
            if not dense.numel():
                dense = torch.zeros(n, n, dtype=values.dtype)
                dense[indices[0].long(), indices[1].long()] = values
            for k in sparse_keys:
                del state_dict[k]
            state_dict[key] = dense
        return
    if not has_sparse:  # a dense-only checkpoint: lay it out by the rule
        ready = state_dict.get(prefix + 'label_graph_ready')
        indices, values = torch.zeros(2, 0, dtype=torch.long), torch.zeros(0)
        if ready is not None and bool(ready) and dense.numel():
            dense, indices, values = graph_layout(
                dense, module.graph_always_sparse)
        if dense is None or not (ready is not None and bool(ready)):
            dense = torch.zeros(0, 0)  # sparse, or never filled
        state_dict[key] = dense
        state_dict[sparse_keys[0]], state_dict[sparse_keys[1]] = \
            indices, values
    # Resize the buffers to the checkpoint's; torch then copies into them.
    store_graph(module, torch.zeros_like(dense),
                torch.zeros_like(state_dict[sparse_keys[0]],
                                 dtype=torch.long),
                torch.zeros_like(state_dict[sparse_keys[1]],
                                 dtype=torch.float32))


def keeps_sparse_storage(module: nn.Module) -> bool:
    """Whether ``module`` declared its graph with sparse storage."""
    return hasattr(module, 'label_graph_indices')
