"""One adjacency check and one normalisation module for data and models."""
import numpy as np
import pytest
import torch

from mmcma.labels.adjacency import (NORMALIZATIONS, normalize_graph,
                                    propagation_graph,
                                    released_normalization,
                                    symmetric_normalization)

RNG = np.random.default_rng(0)
GRAPH = RNG.random((5, 5)) * (RNG.random((5, 5)) > 0.4)
GRAPH[4] = GRAPH[:, 4] = 0  # an isolated label


def symmetric_loops(graph):
    """D^-1/2 ((A + A^T) / 2) D^-1/2 entry by entry."""
    n = len(graph)
    a = [[(graph[i][j] + graph[j][i]) / 2 for j in range(n)] for i in range(n)]
    d = [sum(row) for row in a]
    return np.array([[a[i][j] / (d[i] * d[j])**0.5 if d[i] and d[j] else 0.0
                      for j in range(n)] for i in range(n)])


def released_loops(graph):
    """ML-GCN's gen_adj: (A D)^T D, D = diag(row sums ^ -1/2)."""
    n = len(graph)
    d = [sum(graph[i]) for i in range(n)]
    s = [x**-0.5 if x else 0.0 for x in d]
    return np.array([[graph[j][i] * s[i] * s[j] for j in range(n)]
                     for i in range(n)])


@pytest.mark.parametrize('name, fn, reference', [
    ('symmetric', symmetric_normalization, symmetric_loops),
    ('released', released_normalization, released_loops),
])
def test_one_function_for_numpy_and_torch(name, fn, reference):
    expected = reference(GRAPH.tolist())
    ours = fn(GRAPH)
    assert isinstance(ours, np.ndarray)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15)
    as_tensor = fn(torch.from_numpy(GRAPH))
    assert isinstance(as_tensor, torch.Tensor)
    np.testing.assert_array_equal(as_tensor.numpy(), ours)
    np.testing.assert_array_equal(normalize_graph(GRAPH, name), ours)
    assert np.isfinite(ours).all() and not ours[4].any()


def test_symmetric_is_exactly_symmetric():
    out = symmetric_normalization(GRAPH)
    np.testing.assert_array_equal(out, out.T)


def test_propagation_applies_only_what_is_missing():
    raw = torch.from_numpy(GRAPH)
    # A raw graph: ML-GCN's gen_adj by default, or what is asked.
    torch.testing.assert_close(propagation_graph(raw, 'none'),
                               released_normalization(raw))
    torch.testing.assert_close(propagation_graph(raw, 'none', 'symmetric'),
                               symmetric_normalization(raw))
    assert propagation_graph(raw, 'none', 'none') is raw
    # A normalised graph is used as it is, by default or when asked.
    done = symmetric_normalization(raw)
    assert propagation_graph(done, 'symmetric') is done
    assert propagation_graph(done, 'symmetric', 'symmetric') is done
    for other in ('released', 'none'):
        with pytest.raises(ValueError, match='normalised twice'):
            propagation_graph(done, 'symmetric', other)
    with pytest.raises(ValueError, match='must be one of'):
        propagation_graph(raw, 'none', 'sym')
    with pytest.raises(ValueError, match='must be one of'):
        propagation_graph(raw, 'row')
    assert set(NORMALIZATIONS) == {'none', 'symmetric', 'released'}


def test_numpy_graphs_are_checked_where_they_enter():
    with pytest.raises(ValueError, match='square'):
        symmetric_normalization(np.zeros((2, 3)))
    with pytest.raises(ValueError, match='negative'):
        released_normalization(-np.eye(2))
    with pytest.raises(ValueError, match='NaN'):
        symmetric_normalization(np.full((2, 2), np.nan))
