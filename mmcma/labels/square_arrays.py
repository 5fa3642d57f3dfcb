"""The (N, N) arrays of a label state file: dense, or COO where sparse.

A :class:`~mmcma.labels.LabelState` holds the label graph and the
co-occurrence counts either as dense arrays or, for large label sets with a
thresholded graph (:data:`SPARSE_MIN_LABELS`), as ``scipy.sparse`` CSR
matrices: at N = 9,605 each dense one takes 738 MB. In the ``.npz`` file
each is four arrays, ``{name}`` (dense, or (0, 0)), ``{name}_layout``
(``'dense'`` or ``'coo'``), ``{name}_indices`` (2, nnz) int64 and
``{name}_values`` (nnz,). :func:`square_from_arrays` refuses indices out of
range, repeated entries, arrays of the wrong kind or shape and non-finite
values. scipy has no pickle-free file format of its own that
:func:`mmcma.io.read_npz` could check before reading, hence these arrays.
"""
from typing import Dict, Union

import numpy as np
import scipy.sparse as sp

#: From this many labels on, a thresholded graph ('mlgcn', 'ks') and its
#: counts are built and kept sparse, unless the graph is denser than
#: :data:`SPARSE_MAX_DENSITY` (the GCN's own limits,
#: :mod:`mmcma.models.utils.gcn`).
SPARSE_MIN_LABELS = 1024
SPARSE_MAX_DENSITY = 0.05

#: How a square array is stored.
LAYOUTS = ('dense', 'coo')

SquareArray = Union[np.ndarray, sp.csr_matrix]


def layout_names(name: str) -> tuple:
    """The file's arrays of the square array ``name``."""
    return (name, f'{name}_layout', f'{name}_indices', f'{name}_values')


def square_to_arrays(name: str, value: SquareArray) -> Dict[str, np.ndarray]:
    """The four file arrays of ``value`` (dense or scipy sparse)."""
    if sp.issparse(value):
        coo = sp.coo_matrix(value)
        coo.sum_duplicates()
        return {name: np.zeros((0, 0), coo.dtype),
                f'{name}_layout': np.asarray('coo'),
                f'{name}_indices': np.vstack([coo.row, coo.col]).astype(
                    np.int64),
                f'{name}_values': coo.data}
    value = np.asarray(value)
    return {name: value, f'{name}_layout': np.asarray('dense'),
            f'{name}_indices': np.zeros((2, 0), np.int64),
            f'{name}_values': np.zeros(0, value.dtype)}


def _kind(array: np.ndarray, what: str, kinds: str, ndim: int) -> None:
    if array.dtype.kind not in kinds or array.ndim != ndim:
        raise ValueError(f'{what} is a {array.ndim}-D {array.dtype} array; '
                         f'expected a {ndim}-D array of kind {kinds!r}')


def square_from_arrays(values: Dict[str, np.ndarray], name: str, size: int,
                       kinds: str) -> SquareArray:
    """The square array ``name`` from a file's arrays.

    Args:
        values (dict): The file's arrays (:func:`layout_names` of ``name``
            among them).
        name (str): ``'graph'`` or ``'co_counts'``.
        size (int): N, the number of labels.
        kinds (str): The dtype kinds the values may have (numpy's codes).

    Returns:
        np.ndarray | scipy.sparse.csr_matrix: The dense array as stored
        (its shape is the caller's to check), or the (N, N) CSR matrix.

    Raises:
        ValueError: An unknown layout, arrays of another kind or shape,
            indices out of [0, N), repeated entries or non-finite values.
    """
    layout = values[f'{name}_layout']
    _kind(layout, f'{name}_layout', 'US', 0)
    if str(layout) not in LAYOUTS:
        raise ValueError(f'{name}: unknown layout {str(layout)!r}, expected '
                         f'one of {LAYOUTS}')
    dense = values[name]
    _kind(dense, name, kinds, 2)
    if str(layout) == 'dense':
        return dense
    indices, data = values[f'{name}_indices'], values[f'{name}_values']
    _kind(indices, f'{name}_indices', 'iu', 2)
    _kind(data, f'{name}_values', kinds, 1)
    if indices.shape != (2, data.size) or dense.size:
        raise ValueError(f'{name}: COO arrays of shapes {indices.shape} and '
                         f'{data.shape} (and a dense {dense.shape}); expected '
                         '(2, nnz), (nnz,) and (0, 0)')
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        raise ValueError(f'{name}: indices outside [0, {size})')
    if data.dtype.kind == 'f' and not np.isfinite(data).all():
        raise ValueError(f'{name}: NaN or infinite values')
    flat = indices[0].astype(np.int64) * size + indices[1]
    if np.unique(flat).size != flat.size:
        raise ValueError(f'{name}: an entry is given more than once')
    return sp.csr_matrix((data, (indices[0], indices[1])), shape=(size, size))


def sparse_enough(graph: sp.spmatrix) -> bool:
    """Whether a sparse (N, N) graph is sparse enough to be kept so."""
    n = graph.shape[0]
    return graph.nnz <= SPARSE_MAX_DENSITY * n * n


def sparse_by_rule(num_labels: int, nnz: int) -> bool:
    """The one size-and-density rule: an (N, N) graph with ``nnz`` non-zero
    entries is kept sparse when ``N >= SPARSE_MIN_LABELS`` and at most
    ``SPARSE_MAX_DENSITY`` of its entries are non-zero (the label state,
    the GCN's propagation and the model's graph buffers all ask this)."""
    return num_labels >= SPARSE_MIN_LABELS and \
        nnz <= SPARSE_MAX_DENSITY * num_labels * num_labels
