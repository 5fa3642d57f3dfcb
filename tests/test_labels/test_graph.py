
import numpy as np
import pytest
import scipy.sparse as sp

from tests.helpers.voc import VOC_CLASSES
from mmcma.labels.graphs import (GRAPH_KINDS, LabelCounts, build_label_graph,
                         label_counts)

# 5 images x 4 labels; label 3 never occurs.
#   n = [4, 3, 2, 0], n_01 = 2 (images 0, 2), n_02 = 1 (image 2),
#   n_12 = 2 (images 2, 3).
LABELS = np.array([
    [1, 1, 0, 0],
    [1, 0, 0, 0],
    [1, 1, 1, 0],
    [0, 1, 1, 0],
    [1, 0, 0, 0],
])
COUNTS = np.array([4, 3, 2, 0])
CO_COUNTS = np.array([
    [4, 2, 1, 0],
    [2, 3, 2, 0],
    [1, 2, 2, 0],
    [0, 0, 0, 0],
])
# A_ij = P(i | j) = n_ij / n_j; the unseen label's column and row are 0.
CONDITIONAL = np.array([
    [1, 2 / 3, 1 / 2, 0],
    [2 / 4, 1, 2 / 2, 0],
    [1 / 4, 2 / 3, 1, 0],
    [0, 0, 0, 1],
])
CONDITIONAL_SYMMETRIC = np.array([
    [1, (2 / 3 + 2 / 4) / 2, (1 / 2 + 1 / 4) / 2, 0],
    [(2 / 3 + 2 / 4) / 2, 1, (1 + 2 / 3) / 2, 0],
    [(1 / 2 + 1 / 4) / 2, (1 + 2 / 3) / 2, 1, 0],
    [0, 0, 0, 1],
])
# ML-GCN: P_ij = n_ij / n_i for i != j
#   row 0: 2/4, 1/4, 0   row 1: 2/3, 2/3, 0   row 2: 1/2, 2/2, 0   row 3: 0
# binarised at t = 0.4:
#   [[0, 1, 0, 0], [1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]]
# paper: rows re-weighted to p = 0.2 over the edges, diagonal 1 - p.
MLGCN_PAPER = np.array([
    [0.8, 0.2, 0, 0],
    [0.1, 0.8, 0.1, 0],
    [0.1, 0.1, 0.8, 0],
    [0, 0, 0, 0.8],
])
# released: columns re-weighted, 0.25 / (column sum + 1e-6), plus identity;
# column sums of the binary graph are [2, 2, 1, 0].
MLGCN_RELEASED = np.array([
    [1, 0.25 / 2, 0, 0],
    [0.25 / 2, 1, 0.25 / 1, 0],
    [0.25 / 2, 0.25 / 2, 1, 0],
    [0, 0, 0, 1],
])


def test_label_counts_hand_worked():
    counts = label_counts(LABELS)
    assert isinstance(counts, LabelCounts)
    assert counts.num_images == 5
    assert counts.num_labels == 4
    assert counts.counts.dtype == np.int64
    assert counts.co_counts.dtype == np.int64
    np.testing.assert_array_equal(counts.counts, COUNTS)
    np.testing.assert_array_equal(counts.co_counts, CO_COUNTS)


def test_conditional_graph_is_p_i_given_j():
    graph = build_label_graph(LABELS, symmetric=False)
    assert graph.dtype == np.float64
    np.testing.assert_allclose(graph, CONDITIONAL, rtol=0, atol=1e-12)
    # Of the 2 images with label 2, one has label 0: P(0 | 2) = 1/2, while
    # of the 4 images with label 0, one has label 2: P(2 | 0) = 1/4.
    assert graph[0, 2] == pytest.approx(0.5)
    assert graph[2, 0] == pytest.approx(0.25)


def test_conditional_graph_symmetrised_by_default():
    graph = build_label_graph(LABELS)
    np.testing.assert_allclose(graph, CONDITIONAL_SYMMETRIC, atol=1e-12)
    np.testing.assert_array_equal(graph, graph.T)
    np.testing.assert_array_equal(np.diag(graph), 1.0)


@pytest.mark.parametrize('symmetric', [True, False])
def test_unseen_label_is_isolated_and_finite(symmetric):
    graph = build_label_graph(LABELS, symmetric=symmetric)
    assert np.isfinite(graph).all()
    np.testing.assert_array_equal(graph[3, :3], 0.0)
    np.testing.assert_array_equal(graph[:3, 3], 0.0)
    assert graph[3, 3] == 1.0


def test_no_images_at_all_gives_identity():
    graph = build_label_graph(np.zeros((0, 3)))
    np.testing.assert_array_equal(graph, np.eye(3))


def test_mlgcn_paper_hand_worked():
    graph = build_label_graph(LABELS, 'mlgcn', t=0.4, p=0.2)
    np.testing.assert_allclose(graph, MLGCN_PAPER, atol=1e-12)
    np.testing.assert_array_equal(
        build_label_graph(LABELS, 'mlgcn'), graph)  # paper is the default


def test_mlgcn_released_hand_worked():
    graph = build_label_graph(LABELS, 'mlgcn', variant='released')
    np.testing.assert_allclose(graph, MLGCN_RELEASED, rtol=1e-5, atol=0)


def test_mlgcn_threshold_keeps_equal_probabilities():
    # P(1 | 0) = 0.5 exactly stays an edge at t = 0.5; P(2 | 0) = 0.25 not.
    graph = build_label_graph(LABELS, 'mlgcn', t=0.5, p=0.2)
    assert graph[0, 1] == pytest.approx(0.2)
    assert graph[0, 2] == 0.0


def test_counts_are_reused():
    counts = label_counts(LABELS)
    for kind, options in (('conditional', {}), ('mlgcn', {
            'variant': 'released'
    })):
        np.testing.assert_array_equal(
            build_label_graph(counts, kind, **options),
            build_label_graph(LABELS, kind, **options))


@pytest.mark.parametrize('convert', [
    lambda y: y.astype(bool),
    lambda y: y.astype(np.uint8),
    lambda y: y.astype(np.float32),
    sp.csr_matrix,
    sp.csc_matrix,
    sp.coo_matrix,
    sp.csr_array,
    lambda y: sp.coo_array(y.astype(np.float64)),
])
def test_sparse_and_dense_inputs_agree(convert):
    rng = np.random.default_rng(0)
    labels = (rng.random((300, 12)) < 0.2).astype(np.int64)
    labels[:, 5] = 0  # an unseen label
    expected = label_counts(labels)
    counts = label_counts(convert(labels))
    np.testing.assert_array_equal(counts.co_counts, expected.co_counts)
    np.testing.assert_array_equal(counts.co_counts, labels.T @ labels)
    np.testing.assert_array_equal(
        build_label_graph(convert(labels)), build_label_graph(labels))


@pytest.mark.parametrize('labels, message', [
    (np.array([1, 0, 1]), '2-D'),
    (np.ones((2, 2, 2)), '2-D'),
    (np.array([[1.0, np.nan]]), 'NaN'),
    (np.array([[1, 2]]), '0/1'),
    (np.array([[1, -1]]), '0/1'),
    (np.array([[0.5, 1]]), '0/1'),
    (np.array([['a', 'b']]), 'numeric'),
    (sp.csr_matrix(np.array([[1, -1]])), '0/1'),
    (sp.csr_matrix(np.array([[np.nan, 1]])), 'NaN'),
])
def test_bad_labels_raise(labels, message):
    with pytest.raises(ValueError, match=message):
        label_counts(labels)


@pytest.mark.parametrize('labels', [
    sp.coo_matrix(([1, 1], ([0, 0], [0, 0])), shape=(1, 2)),
    sp.csr_matrix(([1, 1], [0, 0], [0, 2]), shape=(1, 2)),
])
def test_sparse_duplicates_are_summed_before_checking(labels):
    # Two entries at (0, 0) add up to 2: not a binary matrix.
    with pytest.raises(ValueError, match='0/1'):
        label_counts(labels)


@pytest.mark.parametrize('kind, options, message', [
    ('cooccurrence', {}, 'conditional'),
    ('conditional', {
        't': 0.4
    }, 'unknown option'),
    ('conditional', {
        'symmetric': 'yes'
    }, 'bool'),
    ('mlgcn', {
        'symmetric': True
    }, 'unknown option'),
    ('mlgcn', {
        't': 0
    }, 't must'),
    ('mlgcn', {
        't': 1.5
    }, 't must'),
    ('mlgcn', {
        'p': -0.1
    }, 'p must'),
    ('mlgcn', {
        'p': True
    }, 'p must'),
    ('mlgcn', {
        'variant': 'official'
    }, 'variant'),
])
def test_bad_kind_or_options_raise(kind, options, message):
    with pytest.raises(ValueError, match=message):
        build_label_graph(LABELS, kind, **options)


def test_graph_kinds_listed():
    assert GRAPH_KINDS == ('conditional', 'mlgcn', 'ks')


# ---------------------------------------------------------------- VOC 2007
def test_voc_raw_labels_are_rejected(voc):
    raw, _ = voc
    with pytest.raises(ValueError, match='0/1'):
        label_counts(raw)


def test_voc_counts(voc):
    raw, labels = voc
    assert labels.shape == (5011, 20)
    counts = label_counts(sp.csr_matrix(labels))
    np.testing.assert_array_equal(counts.counts, (raw == 1).sum(axis=0))
    np.testing.assert_array_equal(counts.co_counts, counts.co_counts.T)
    np.testing.assert_array_equal(np.diag(counts.co_counts), counts.counts)
    # Difficult-only images do not count.
    assert ((raw == 0).sum(axis=0) > 0).all()
    assert (counts.counts < (raw >= 0).sum(axis=0)).all()


def test_voc_conditional_graph(voc):
    _, labels = voc
    graph = build_label_graph(labels)
    assert graph.shape == (20, 20)
    np.testing.assert_array_equal(graph, graph.T)
    np.testing.assert_array_equal(np.diag(graph), 1.0)
    assert (graph >= 0).all() and (graph <= 1).all()

    person = VOC_CLASSES.index('person')
    bicycle = VOC_CLASSES.index('bicycle')
    horse = VOC_CLASSES.index('horse')
    conditional = build_label_graph(labels, symmetric=False)
    # Most bicycles come with a person; few people come with a bicycle.
    assert conditional[person, bicycle] > 0.5
    assert conditional[person, bicycle] > 3 * conditional[bicycle, person]
    assert conditional[person, horse] > conditional[horse, person]
    # Person is the most frequent class, so P(person | j) is the largest
    # entry of almost every other column j; tables and sofas come with
    # chairs more often.
    companion = dict(
        zip(VOC_CLASSES,
            np.argmax(conditional - np.eye(20), axis=0).tolist()))
    chair = VOC_CLASSES.index('chair')
    assert companion.pop('diningtable') == chair
    assert companion.pop('sofa') == chair
    companion.pop('person')
    assert set(companion.values()) == {person}


def test_voc_mlgcn_graphs(voc):
    _, labels = voc
    counts = label_counts(labels)
    paper = build_label_graph(counts, 'mlgcn')
    has_edges = (paper - np.diag(np.diag(paper))).sum(axis=1) > 0
    assert has_edges.any()
    np.testing.assert_allclose(paper.sum(axis=1)[has_edges], 1.0)
    np.testing.assert_allclose(paper.sum(axis=1)[~has_edges], 0.8)

    released = build_label_graph(counts, 'mlgcn', variant='released')
    np.testing.assert_array_equal(np.diag(released), 1.0)
    off_diagonal = released - np.eye(20)
    column_sums = off_diagonal.sum(axis=0)
    fed = column_sums > 0
    np.testing.assert_allclose(column_sums[fed], 0.25, rtol=1e-5)
    # Same edges, different weights.
    np.testing.assert_array_equal(off_diagonal > 0,
                                  paper - np.diag(np.diag(paper)) > 0)
