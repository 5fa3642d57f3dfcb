"""Label occurrence and co-occurrence counts of a label matrix.

A dataset's annotations are an ``(S, N)`` binary matrix ``Y`` (S samples,
N labels). Every label graph depends on ``Y`` only through

* ``n_j``  = number of samples with label ``j`` (column sums of ``Y``), and
* ``n_ij`` = number of samples with both ``i`` and ``j`` (``Y^T Y``),

which :func:`label_counts` computes with one (sparse-aware) matrix product.

Positives only: a VOC "difficult" label (0 in the ``ImageSets`` files) should
be given as 0, i.e. counted as not present, as ML-GCN does.
"""
from dataclasses import dataclass
from typing import Union

import numpy as np
import scipy.sparse as sp

LabelMatrix = Union[np.ndarray, sp.spmatrix, sp.sparray]


@dataclass(frozen=True)
class LabelCounts:
    """Label occurrence and co-occurrence counts of a label matrix.

    Attributes:
        num_images (int): Number of samples ``S`` (rows of the label matrix).
        counts (np.ndarray): ``(N,)`` int64, ``n_j`` = samples with label j.
        co_counts (np.ndarray): ``(N, N)`` int64, symmetric,
            ``n_ij`` = samples with both labels i and j; its diagonal is
            ``counts``.
    """

    num_images: int
    counts: np.ndarray
    co_counts: np.ndarray

    @property
    def num_labels(self) -> int:
        """int: Number of labels ``N``."""
        return int(self.counts.shape[0])


def _check_binary(values: np.ndarray) -> None:
    """Raise ``ValueError`` unless every entry of ``values`` is 0 or 1."""
    if values.dtype == np.bool_:
        return
    if not np.issubdtype(values.dtype, np.number):
        raise ValueError('labels must be numeric or boolean, got dtype '
                         f'{values.dtype}')
    if np.issubdtype(values.dtype, np.inexact) and np.isnan(values).any():
        raise ValueError('labels contain NaN')
    invalid = (values != 0) & (values != 1)
    if invalid.any():
        raise ValueError('labels must be 0/1 (positives only: map VOC '
                         'difficult 0 and negative -1 to 0), found '
                         f'{values[invalid][0].item()!r}')


def binary_csr(labels: LabelMatrix) -> sp.csr_matrix:
    """``labels`` (S, N) as an int64 CSR matrix after checking that it is
    2-D and holds only 0 and 1 (``ValueError`` otherwise)."""
    if not sp.issparse(labels):
        labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError('labels must be 2-D (samples, labels), got shape '
                         f'{labels.shape}')
    if isinstance(labels, np.ndarray):
        _check_binary(labels)
        matrix = sp.csr_matrix(labels)
    else:
        matrix = sp.csr_matrix(labels)
        matrix.sum_duplicates()
        _check_binary(matrix.data)
    return matrix.astype(np.int64)


def label_counts(labels: LabelMatrix) -> LabelCounts:
    """Count label occurrences and co-occurrences with one matrix product.

    Dense input is converted to CSR first: ``Y^T Y`` is then a sparse
    product of cost ``O(nnz * labels per sample)``, single-threaded, and
    exact in int64.

    Args:
        labels (np.ndarray | scipy.sparse matrix/array): ``(S, N)`` binary
            label matrix (bool, or integers/floats equal to 0 or 1).

    Returns:
        LabelCounts: ``counts`` (N,) and ``co_counts = Y^T Y`` (N, N), int64.

    Raises:
        ValueError: If ``labels`` is not 2-D or holds values other than 0/1
            (including NaN).
    """
    matrix = binary_csr(labels)
    co_counts = np.asarray((matrix.T @ matrix).toarray(), dtype=np.int64)
    return LabelCounts(
        num_images=int(matrix.shape[0]),
        counts=np.diagonal(co_counts).copy(),
        co_counts=co_counts)


def hash_label_matrix(h, labels: LabelMatrix, chunk: int = 8192) -> None:
    """Feed the shape and the bits of ``labels`` (S, N) to the hash ``h``
    (``hashlib``), the same bytes for a dense array and a scipy sparse
    matrix of equal entries: a sparse one is densified ``chunk`` rows at a
    time (a multiple of 8, so the packed bits concatenate exactly)."""
    h.update(np.asarray(labels.shape, np.int64).tobytes())
    if not sp.issparse(labels):
        h.update(np.packbits(np.ascontiguousarray(labels, np.uint8))
                 .tobytes())
        return
    assert chunk % 8 == 0
    matrix = sp.csr_matrix(labels)
    for start in range(0, matrix.shape[0], chunk):
        rows = matrix[start:start + chunk].toarray()
        h.update(np.packbits(np.ascontiguousarray(rows, np.uint8)).tobytes())
