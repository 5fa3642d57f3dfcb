"""LabelGCN over a sparse graph: the same embeddings and gradients as the
dense path, chosen by size and density, and re-made when the graph
changes."""
import numpy as np
import pytest
import torch

from mmcma.models.utils import LabelGCN
from mmcma.models.utils.gcn import (SPARSE_MAX_DENSITY, SPARSE_MIN_LABELS,
                                    gcn_layers, sparse_adjacency, use_sparse)
from tests.helpers.gcn_models import assert_same_layers_and_gradients


def sparse_graph(n: int, per_row: int, seed: int = 0) -> np.ndarray:
    """A raw ML-GCN-like graph in [0, 1]: the diagonal and ``per_row``
    random neighbours per label."""
    rng = np.random.default_rng(seed)
    graph = np.eye(n) * 0.8
    rows = np.repeat(np.arange(n), per_row)
    graph[rows, rng.integers(0, n, rows.size)] = rng.uniform(
        0.05, 0.2, rows.size)
    return graph


def filled(n: int, graph: np.ndarray, **kwargs) -> LabelGCN:
    torch.manual_seed(0)
    gcn = LabelGCN(n, embed_dim=8, channels=(16, 12, 6), **kwargs)
    gcn.set_label_state('graph', graph)
    gcn.set_label_state('embedding', torch.randn(n, 8))
    return gcn


@pytest.mark.parametrize('normalize', [None, 'none', 'symmetric'])
def test_sparse_equals_dense_with_gradients(normalize):
    n = 60
    graph = sparse_graph(n, 3)
    dense, sparse = (filled(n, graph, sparse=s, normalize=normalize)
                     for s in (False, True))
    assert not dense.adjacency().is_sparse
    assert sparse.adjacency().is_sparse
    # A graph stored sparse is normalised on its entries: degrees summed in
    # another order than the dense row sums, so float rounding differs.
    torch.testing.assert_close(sparse.adjacency().to_dense(),
                               dense.adjacency(), rtol=1e-6, atol=1e-7)
    assert_same_layers_and_gradients(dense, sparse)


def test_gcn_layers_take_a_sparse_graph():
    rng = np.random.default_rng(2)
    adjacency = torch.from_numpy(sparse_graph(20, 2, seed=2))
    x = torch.from_numpy(rng.normal(size=(20, 5)))
    weights = [torch.from_numpy(rng.normal(size=(5, 4)))]
    torch.testing.assert_close(
        gcn_layers(x, sparse_adjacency(adjacency), weights)[0],
        gcn_layers(x, adjacency, weights)[0], rtol=1e-12, atol=1e-12)


def test_auto_is_dense_for_small_or_dense_graphs_sparse_for_large_sparse():
    small = torch.from_numpy(sparse_graph(50, 1))
    assert not use_sparse(small, None) and use_sparse(small, True)
    n = SPARSE_MIN_LABELS
    large = torch.from_numpy(sparse_graph(n, 3))
    assert use_sparse(large, None) and not use_sparse(large, False)
    full = int(SPARSE_MAX_DENSITY * n) + 2  # non-zeros per row
    assert not use_sparse(torch.from_numpy(sparse_graph(n, full * 2)), None)
    # The demo's GCN (12 labels) keeps today's dense path.
    demo = filled(12, sparse_graph(12, 2))
    assert demo.sparse is None and not demo.adjacency().is_sparse


def test_sparse_graph_is_remade_when_the_graph_changes():
    n = 30
    gcn = filled(n, sparse_graph(n, 2), sparse=True)
    first = gcn.adjacency()
    assert gcn.adjacency() is first  # made once
    gcn.set_label_state('graph', sparse_graph(n, 2, seed=5))
    second = gcn.adjacency()
    assert second is not first
    expected = LabelGCN(n, embed_dim=8, channels=(16, 12, 6), sparse=False)
    expected.set_label_state('graph', sparse_graph(n, 2, seed=5))
    torch.testing.assert_close(second.to_dense(), expected.adjacency())
    # A checkpoint loaded in place changes it too.
    state = expected.state_dict()
    gcn.set_label_state('graph', sparse_graph(n, 2, seed=6))
    gcn.load_state_dict(state, strict=False)
    torch.testing.assert_close(gcn.adjacency().to_dense(),
                               expected.adjacency())


def test_sparse_option_checked():
    with pytest.raises(ValueError, match='sparse'):
        LabelGCN(4, sparse='yes')
