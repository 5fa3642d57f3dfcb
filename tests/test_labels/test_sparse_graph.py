"""The sparse ML-GCN graph: entry by entry the dense one (both variants,
several thresholds, unseen labels), in torch as a sparse tensor, and the
same option checks."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from mmcma.io import InputOptionError
from mmcma.labels.graphs import (label_counts, mlgcn_graph,
                                 sparse_mlgcn_graph, to_torch_sparse)


def random_labels(seed, images=400, labels=30):
    rng = np.random.default_rng(seed)
    # Popular and rare labels; the last two never occur.
    dense = rng.random((images, labels)) < rng.uniform(0.01, 0.3, labels)
    dense[:, -2:] = False
    return dense.astype(np.uint8)


@pytest.mark.parametrize('variant', ['paper', 'released'])
@pytest.mark.parametrize('t', [0.05, 0.2, 0.4, 1.0])
def test_sparse_equals_dense_exactly(variant, t):
    labels = random_labels(int(t * 100))
    dense = mlgcn_graph(label_counts(labels), t, variant=variant)
    ours = sparse_mlgcn_graph(sp.csr_matrix(labels), t, variant=variant)
    assert sp.issparse(ours) and ours.dtype == np.float64
    np.testing.assert_array_equal(ours.toarray(), dense)
    # Only the edges and the diagonal are stored.
    assert ours.nnz == np.count_nonzero(dense)


def test_dense_input_and_explicit_p():
    labels = random_labels(3)
    np.testing.assert_array_equal(
        sparse_mlgcn_graph(labels, 0.3, p=0.5).toarray(),
        mlgcn_graph(label_counts(labels), 0.3, p=0.5))


def test_torch_sparse_tensor():
    graph = sparse_mlgcn_graph(random_labels(4), 0.2)
    tensor = to_torch_sparse(graph)
    assert tensor.is_sparse and tensor.is_coalesced()
    assert tensor.dtype == torch.float32
    torch.testing.assert_close(tensor.to_dense(),
                               torch.from_numpy(graph.toarray()).float())


def test_options_and_labels_checked_as_the_dense_graph():
    labels = random_labels(5)
    for bad in (dict(t=0), dict(p=2.0), dict(variant='code')):
        with pytest.raises(InputOptionError):
            sparse_mlgcn_graph(labels, **bad)
    with pytest.raises(ValueError, match='0/1'):
        sparse_mlgcn_graph(labels * 2)
