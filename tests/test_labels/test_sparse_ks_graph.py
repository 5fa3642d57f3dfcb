"""The sparse KS graph: entry by entry the dense one (asymmetric and
weighted inputs, unseen labels, both superimposed normalisations, the
extremes of lam and eta, a tau that drops edges), from the label matrix as
from counts, and the same checks."""
import numpy as np
import pytest
import scipy.sparse as sp

from mmcma.io import InputOptionError
from mmcma.labels.adjacency import symmetric_normalization
from mmcma.labels.graphs import (build_label_graph, ks_superimpose,
                                 mlgcn_graph, label_counts, sparse_ks_graph,
                                 sparse_ks_superimpose)
from mmcma.labels.knowledge import KnowledgeGraph

from .test_sparse_graph import random_labels


def random_graph(seed, n=30, density=0.15):
    """Asymmetric, weighted, with a diagonal and two isolated labels."""
    rng = np.random.default_rng(seed)
    graph = rng.random((n, n)) * (rng.random((n, n)) < density)
    graph[:, -2:] = graph[-2:, :] = 0
    np.fill_diagonal(graph[:-2, :-2], 1.0)
    return graph


def test_symmetric_normalization_equals_dense():
    graph = random_graph(0)
    ours = symmetric_normalization(sp.csr_matrix(graph))
    assert sp.issparse(ours)  # stays sparse
    np.testing.assert_allclose(ours.toarray(), symmetric_normalization(graph),
                               rtol=1e-13, atol=0)
    assert not ours.toarray()[-2:].any()  # zero degree: zero row


@pytest.mark.parametrize('norm', ['symmetric', 'none'])
@pytest.mark.parametrize('lam, tau, eta', [(0.4, 0.02, 0.4),
                                           (0.6, 0.03, 0.4), (0.5, 0.1, 0.7),
                                           (0.0, 0.02, 0.4), (1.0, 0.0, 1.0)])
def test_superimpose_equals_dense(lam, tau, eta, norm):
    statistics, knowledge = random_graph(1), random_graph(2, density=0.08)
    dense = ks_superimpose(statistics, knowledge, lam, tau, eta, norm)
    ours = sparse_ks_superimpose(sp.csr_matrix(statistics), knowledge, lam,
                                 tau, eta, norm)
    assert sp.issparse(ours) and ours.dtype == np.float64
    np.testing.assert_allclose(ours.toarray(), dense, rtol=1e-12,
                               atol=1e-15)
    assert ours.nnz == np.count_nonzero(dense)  # no explicit zeros kept
    if tau == 0.1:  # the threshold removed edges
        superimposed = ks_superimpose(statistics, knowledge, lam, 0.0, eta,
                                      norm)
        assert np.count_nonzero(dense) < np.count_nonzero(superimposed)


@pytest.mark.parametrize('variant', ['paper', 'released'])
def test_ks_graph_from_labels_equals_the_dense_kind(variant, tmp_path):
    labels = random_labels(7)
    n = labels.shape[1]
    classes = [f'c{i}' for i in range(n)]
    adjacency = (random_graph(3, n, density=0.1) > 0).astype(float)
    adjacency = np.maximum(adjacency, adjacency.T)
    np.fill_diagonal(adjacency, 0)
    order = np.random.default_rng(0).permutation(n)  # another class order
    path = str(tmp_path / 'k.npz')
    KnowledgeGraph(np.array(classes)[order], adjacency[np.ix_(order, order)],
                   np.where(adjacency[np.ix_(order, order)] > 0,
                            '/r/RelatedTo', ''), dict(type='test')).save(path)
    options = dict(classes=classes, knowledge=dict(type='file', path=path),
                   lam=0.6, tau=0.03, variant=variant)
    dense = build_label_graph(labels, 'ks', **options)
    ours = sparse_ks_graph(sp.csr_matrix(labels), **options)
    np.testing.assert_allclose(ours.toarray(), dense, rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(dense, ks_superimpose(
        mlgcn_graph(label_counts(labels), variant=variant), adjacency, 0.6,
        0.03, 0.4))
    assert 0 < ours.nnz < 0.5 * n * n


def test_checks():
    graph = random_graph(4)
    with pytest.raises(ValueError, match='negative'):
        sparse_ks_superimpose(graph, -graph)
    with pytest.raises(ValueError, match='NaN or inf'):
        sparse_ks_superimpose(graph, np.full_like(graph, np.nan))
    with pytest.raises(ValueError, match='differ in size'):
        sparse_ks_superimpose(graph, graph[:-1, :-1])
    with pytest.raises(ValueError, match='square'):
        sparse_ks_superimpose(graph[:-1], graph[:-1])
    with pytest.raises(InputOptionError, match='lam'):
        sparse_ks_superimpose(graph, graph, lam=1.5)
    with pytest.raises(InputOptionError, match='superimposed_norm'):
        sparse_ks_superimpose(graph, graph, superimposed_norm='l1')
    with pytest.raises(InputOptionError, match='needs the names of the 30'):
        sparse_ks_graph(random_labels(1), knowledge=dict(type='file'))
