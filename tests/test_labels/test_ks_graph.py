"""KSSNet's KS graph: the equations, the graph kind, the label state."""
import os

import numpy as np
import torch
import pytest

from mmcma.datasets.synthetic_scenes import CLASSES as SCENES
from mmcma.datasets.synthetic_scenes import generate
from mmcma.labels import (LabelState, cached_label_state,
                          compute_label_state)
from mmcma.labels.adjacency import \
    symmetric_normalization as normalize_adjacency
from mmcma.labels.graphs import (LabelCounts, build_label_graph, label_counts,
                                 mlgcn_graph)
from mmcma.labels.graphs.ks import (drop_self_loops, ks_superimpose,
                                    normalize_superimposed, self_weight,
                                    superimpose, threshold)
from mmcma.labels.state import label_state_key
from mmcma.labels.knowledge import KnowledgeGraph, knowledge_graph
from tests.helpers.voc import VOC_CLASSES
from tests.helpers.wordnet import wordnet_or_skip
from tests.helpers.tool_runner import ROOT, run_tool

# Hand-worked 3 x 3 case, without the normalisation after eq. 2
# (superimposed_norm='none').
#   A_S = [[3,1,0],[1,3,0],[0,0,3]]: the diagonal is dropped (step 0), then
#     degrees 1, 1, 0: A'_S = [[0,1,0],[1,0,0],[0,0,0]]  (label 2: zero row)
#   A_K = [[0,0,2],[0,0,0],[2,0,0]], degrees 2, 0, 2
#     A'_K = [[0,0,1],[0,0,0],[1,0,0]]   (2 / sqrt(2 * 2) = 1; label 1: none)
#   lam = 0.4: A = .4 A'_S + .6 A'_K = [[0,.4,.6],[.4,0,0],[.6,0,0]]
#   tau = 0.5: A_tau = [[0,0,.6],[0,0,0],[.6,0,0]]   (.4 < .5)
#   eta = 0.5: A_KS = .5 A_tau + .5 I = [[.5,0,.3],[0,.5,0],[.3,0,.5]]
#   degrees .8, .5, .8: A'_KS = [[.5/.8, 0, .3/.8], [0, 1, 0],
#                                [.3/.8, 0, .5/.8]]
A_S = np.array([[3., 1, 0], [1, 3, 0], [0, 0, 3]])
A_K = np.array([[0., 0, 2], [0, 0, 0], [2, 0, 0]])
EXPECTED = np.array([[0.625, 0, 0.375], [0, 1, 0], [0.375, 0, 0.625]])


def test_hand_worked_steps():
    s = normalize_adjacency(drop_self_loops(A_S))
    k = normalize_adjacency(drop_self_loops(A_K))
    np.testing.assert_allclose(s, [[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(k, [[0, 0, 1], [0, 0, 0], [1, 0, 0]])
    mixed = superimpose(s, k, 0.4)
    np.testing.assert_allclose(mixed, [[0, .4, .6], [.4, 0, 0],
                                       [.6, 0, 0]])
    cut = threshold(mixed, 0.5)
    np.testing.assert_allclose(cut, [[0, 0, .6], [0, 0, 0], [.6, 0, 0]])
    np.testing.assert_allclose(self_weight(cut, 0.5),
                               [[.5, 0, .3], [0, .5, 0], [.3, 0, .5]])
    np.testing.assert_allclose(
        ks_superimpose(A_S, A_K, 0.4, 0.5, 0.5, superimposed_norm='none'),
        EXPECTED)


# The same graphs with the paper's normalisation after eq. 2 (the default):
#   A = [[0,.4,.6],[.4,0,0],[.6,0,0]], degrees 1, .4, .6
#   A' = D^-1/2 A D^-1/2: (0,1) = .4 / sqrt(1 * .4) = sqrt(.4) = .632456,
#                         (0,2) = .6 / sqrt(1 * .6) = sqrt(.6) = .774597
#   tau = 0.7 keeps (0,2) only; eta = 0.5:
#   A_KS = [[.5, 0, .5 sqrt(.6)], [0, .5, 0], [.5 sqrt(.6), 0, .5]]
#   degrees .5 (1 + sqrt(.6)), .5, .5 (1 + sqrt(.6)):
#   A'_KS = [[1/(1+sqrt(.6)), 0, sqrt(.6)/(1+sqrt(.6))], [0, 1, 0], ...]
#         = [[.563508, 0, .436492], [0, 1, 0], [.436492, 0, .563508]]
# Without it, both .4 and .6 fall under tau = 0.7: A'_KS = I.
EXPECTED_NORMALISED = np.array([[0.5635083269, 0, 0.4364916731], [0, 1, 0],
                                [0.4364916731, 0, 0.5635083269]])


def test_hand_worked_normalisation_after_eq2():
    mixed = superimpose(normalize_adjacency(drop_self_loops(A_S)),
                        normalize_adjacency(drop_self_loops(A_K)), 0.4)
    np.testing.assert_allclose(
        normalize_superimposed(mixed),
        [[0, 0.6324555320, 0.7745966692], [0.6324555320, 0, 0],
         [0.7745966692, 0, 0]])
    np.testing.assert_array_equal(normalize_superimposed(mixed, 'none'),
                                  mixed)
    np.testing.assert_allclose(ks_superimpose(A_S, A_K, 0.4, 0.7, 0.5),
                               EXPECTED_NORMALISED)
    np.testing.assert_allclose(
        ks_superimpose(A_S, A_K, 0.4, 0.7, 0.5, superimposed_norm='symmetric'),
        EXPECTED_NORMALISED)
    np.testing.assert_allclose(
        ks_superimpose(A_S, A_K, 0.4, 0.7, 0.5, superimposed_norm='none'),
        np.eye(3))


def test_input_self_loops_are_ignored():
    np.testing.assert_array_equal(
        ks_superimpose(A_S + 7 * np.eye(3), A_K + np.eye(3), 0.4, 0.5, 0.5),
        ks_superimpose(A_S, A_K, 0.4, 0.5, 0.5))
    # A normalised graph keeps its self-loops (step 4's matter).
    np.testing.assert_allclose(normalize_adjacency(np.diag([2., 4.])),
                               np.eye(2))


def test_threshold_keeps_equal_values():
    np.testing.assert_array_equal(threshold(np.array([[0.02, 0.019]]), 0.02),
                                  [[0.02, 0]])


def test_zero_degree_rows_stay_zero():
    graph = normalize_adjacency(np.array([[0., 0], [0, 4]]))
    np.testing.assert_array_equal(graph, [[0, 0], [0, 1]])
    # eta = 1 drops the self-loops: a label without any edge keeps a zero
    # row in A'_KS, never NaN.
    isolated = ks_superimpose(np.zeros((3, 3)), A_K, lam=0.5, tau=0.0,
                              eta=1.0)
    assert np.isfinite(isolated).all()
    np.testing.assert_array_equal(isolated[1], 0)
    np.testing.assert_allclose(isolated[0, 2], 1.0)


def test_asymmetric_graph_is_symmetrised():
    directed = np.array([[0.8, 0.2, 0], [0, 0.8, 0.2], [0, 0, 1.0]])
    np.testing.assert_allclose(normalize_adjacency(directed),
                               normalize_adjacency(directed.T))
    undirected = (directed + directed.T) / 2
    degree = undirected.sum(axis=1)
    np.testing.assert_allclose(normalize_adjacency(directed),
                               undirected / np.sqrt(np.outer(degree, degree)))


def test_lambda_one_and_zero_pick_one_graph():
    rng = np.random.default_rng(0)
    stats = rng.random((5, 5))
    know, other = rng.random((2, 5, 5))
    know, other = know + know.T, other + other.T
    np.fill_diagonal(know, 0)
    np.fill_diagonal(other, 0)
    alone = normalize_adjacency(self_weight(threshold(normalize_adjacency(
        normalize_adjacency(drop_self_loops(stats))), 0.1), 0.4))
    np.testing.assert_allclose(ks_superimpose(stats, know, 1.0, 0.1, 0.4),
                               alone)
    np.testing.assert_allclose(ks_superimpose(stats, other, 1.0, 0.1, 0.4),
                               alone)
    np.testing.assert_allclose(ks_superimpose(stats, know, 0.0, 0.1, 0.4),
                               ks_superimpose(other, know, 0.0, 0.1, 0.4))
    assert not np.allclose(ks_superimpose(stats, know, 0.5, 0.1, 0.4),
                           alone)


@pytest.mark.parametrize('kwargs, message', [
    (dict(lam=1.5), 'lam must be'), (dict(lam=True), 'lam must be'),
    (dict(tau=-0.1), 'tau must be'), (dict(eta=2), 'eta must be'),
    (dict(superimposed_norm='released'), 'superimposed_norm must be one of'),
    (dict(superimposed_norm=None), 'superimposed_norm must be one of'),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ks_superimpose(A_S, A_K, **kwargs)


def test_bad_graphs():
    with pytest.raises(ValueError, match='differ in size'):
        ks_superimpose(A_S, np.zeros((2, 2)))
    # The normalisation's own checks: tests/test_labels/test_adjacency.py.
    with pytest.raises(ValueError, match='negative'):
        ks_superimpose(A_S, -np.ones((3, 3)))


# ------------------------------------------------------- the graph kind
CLASSES = ['a', 'b', 'c', 'd']
LABELS = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1],
                   [0, 0, 1, 0], [0, 1, 0, 0]])


@pytest.fixture
def knowledge_file(tmp_path):
    """A_K stored in another class order than CLASSES."""
    adjacency = np.zeros((4, 4))
    adjacency[0, 1] = adjacency[1, 0] = 2.0  # d - a
    adjacency[2, 3] = adjacency[3, 2] = 1.0  # c - b
    relation = np.where(adjacency > 0, '/r/RelatedTo', '')
    path = str(tmp_path / 'k.npz')
    KnowledgeGraph(np.array(['d', 'a', 'c', 'b']), adjacency, relation,
                   dict(type='test')).save(path)
    return path


def test_ks_kind_composes_mlgcn_and_knowledge(knowledge_file):
    knowledge = dict(type='file', path=knowledge_file)
    graph = build_label_graph(LABELS, 'ks', classes=CLASSES,
                              knowledge=knowledge, lam=0.6, tau=0.03,
                              eta=0.4, variant='released')
    a_k = np.zeros((4, 4))
    a_k[3, 0] = a_k[0, 3] = 2.0
    a_k[2, 1] = a_k[1, 2] = 1.0
    expected = ks_superimpose(
        mlgcn_graph(label_counts(LABELS), variant='released'), a_k, 0.6,
        0.03, 0.4)
    np.testing.assert_allclose(graph, expected)
    np.testing.assert_array_equal(graph, graph.T)
    # Both sources show: a - b from the statistics, a - d from knowledge.
    assert graph[0, 1] > 0 and graph[0, 3] > 0
    default = build_label_graph(LABELS, 'ks', classes=CLASSES,
                                knowledge=knowledge)
    np.testing.assert_allclose(default, ks_superimpose(
        mlgcn_graph(label_counts(LABELS)), a_k, 0.4, 0.02, 0.4))
    skipped = build_label_graph(LABELS, 'ks', classes=CLASSES,
                                knowledge=knowledge, superimposed_norm='none')
    np.testing.assert_allclose(skipped, ks_superimpose(
        mlgcn_graph(label_counts(LABELS)), a_k, 0.4, 0.02, 0.4, 'none'))
    # (Here every label's superimposed degree is 1, so the two agree; the
    # hand-worked case above shows where they differ.)
    # ML-GCN's p only scales the neighbours: no effect after normalising.
    np.testing.assert_allclose(default, ks_superimpose(
        mlgcn_graph(label_counts(LABELS), p=0.9), a_k, 0.4, 0.02, 0.4))


def test_ks_kind_errors(knowledge_file):
    knowledge = dict(type='file', path=knowledge_file)
    with pytest.raises(ValueError, match="needs the names of the 4"):
        build_label_graph(LABELS, 'ks', knowledge=knowledge)
    with pytest.raises(ValueError, match='needs knowledge='):
        build_label_graph(LABELS, 'ks', classes=CLASSES)
    with pytest.raises(ValueError, match=r"'e'.*not in it"):
        build_label_graph(LABELS, 'ks', classes=['a', 'b', 'c', 'e'],
                          knowledge=knowledge)
    for wrong in ('lambda', 'p', 'superimposed_normalization'):
        # p: scale only, see ks_graph
        with pytest.raises(ValueError, match=rf"unknown option.*'{wrong}'"):
            build_label_graph(LABELS, 'ks', classes=CLASSES,
                              knowledge=knowledge, **{wrong: 0.5})
    with pytest.raises(ValueError, match="superimposed_norm must be one of"):
        build_label_graph(LABELS, 'ks', classes=CLASSES, knowledge=knowledge,
                          superimposed_norm='l1')
    # Other kinds ignore the class names.
    np.testing.assert_array_equal(
        build_label_graph(LABELS, classes=CLASSES), build_label_graph(LABELS))


def test_label_state_fill_and_cache_key(knowledge_file, tmp_path):
    graph = dict(kind='ks', knowledge=dict(type='file', path=knowledge_file))
    needs = {'graph': (4, 4)}
    state = compute_label_state(LABELS, CLASSES, needs, graph)
    np.testing.assert_allclose(
        state.graph, build_label_graph(LABELS, classes=CLASSES, **graph))
    cached = cached_label_state(LABELS, CLASSES, needs, graph,
                                cache_dir=str(tmp_path / 'cache'))
    np.testing.assert_array_equal(cached.graph, state.graph)
    # An edited knowledge file (same path, same options) is a new key: the
    # cache does not serve the old graph.
    key = label_state_key(LABELS, CLASSES, needs, graph)
    loaded = knowledge_graph(CLASSES, graph['knowledge'])
    loaded.adjacency[0, 2] = loaded.adjacency[2, 0] = 5.0
    loaded.relation[0, 2] = loaded.relation[2, 0] = '/r/IsA'
    loaded.save(knowledge_file)
    assert label_state_key(LABELS, CLASSES, needs, graph) != key
    fresh = cached_label_state(LABELS, CLASSES, needs, graph,
                               cache_dir=str(tmp_path / 'cache'))
    assert fresh.graph[0, 2] > 0 and state.graph[0, 2] == 0


def test_contract_config_with_wordnet():
    """The KSSNet model's config: graph=dict(kind='ks',
    knowledge=dict(type='wordnet'), lam=0.4, tau=0.02, eta=0.4)."""
    wordnet_or_skip()
    classes = ['cat', 'dog', 'car', 'person']
    labels = np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1],
                       [1, 1, 0, 0], [0, 0, 1, 0]])
    state = compute_label_state(
        labels, classes, {'graph': (4, 4)},
        dict(kind='ks', knowledge=dict(type='wordnet'), lam=0.4, tau=0.02,
             eta=0.4))
    assert state.graph.shape == (4, 4) and np.isfinite(state.graph).all()
    np.testing.assert_array_equal(state.graph, state.graph.T)
    # cat - dog: WordNet (carnivore) and co-occurrence; car - cat: neither.
    assert state.graph[0, 1] > 0 and state.graph[0, 2] == 0


def test_voc_ks_graph_with_wordnet(voc):  # noqa: F811
    wordnet_or_skip()
    _, labels = voc
    counts = label_counts(labels)
    graph = build_label_graph(counts, 'ks', classes=VOC_CLASSES,
                              knowledge=dict(type='wordnet'))
    assert graph.shape == (20, 20) and np.isfinite(graph).all()
    np.testing.assert_array_equal(graph, graph.T)
    assert (np.diag(graph) > 0).all()
    index = VOC_CLASSES.index
    # From the statistics (ML-GCN: most bicycles come with a person) and
    # from WordNet (cat - dog never reach t = 0.4 in VOC's co-occurrences).
    statistics = mlgcn_graph(counts)
    assert statistics[index('cat'), index('dog')] == 0
    assert graph[index('person'), index('bicycle')] > 0
    assert graph[index('cat'), index('dog')] > 0
    assert graph[index('bottle'), index('cow')] == 0


@pytest.mark.slow
def test_build_label_graph_tool_ks(tmp_path):
    root = str(tmp_path / 'scenes')
    generate(root, 40, 12, 32, seed=0)
    adjacency = np.zeros((len(SCENES), len(SCENES)))
    kite, person = SCENES.index('kite'), SCENES.index('person')
    adjacency[kite, person] = adjacency[person, kite] = 1.0
    path = str(tmp_path / 'scenes_k.npz')
    KnowledgeGraph(np.array(SCENES), adjacency,
                   np.where(adjacency > 0, '/r/UsedBy', ''), {}).save(path)
    out = str(tmp_path / 'ks.npz')
    config = os.path.join(
        ROOT, 'configs', 'demo',
        'mlgcn_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
    run_tool('tools/build_label_graph.py', config, '--graph', 'kind=ks',
             'lam=0.6', 'tau=0.03', '--knowledge', path, '--out', out,
             '--cfg-options', f'train_dataloader.dataset.data_root={root}')
    state = LabelState.load(out)
    counts = LabelCounts(state.num_samples, state.counts, state.co_counts)
    # The config's hook asks for the released ML-GCN graph: A_S keeps it.
    np.testing.assert_allclose(state.graph, ks_superimpose(
        mlgcn_graph(counts, variant='released'), adjacency, 0.6, 0.03, 0.4))
    assert state.graph[kite, person] > 0


def test_the_graph_says_how_it_is_normalised(knowledge_file, tmp_path):
    """The KS graph is stored as normalised; a GCN then uses it as it
    is by default and refuses to normalise it again; a raw ML-GCN graph
    gets ML-GCN's gen_adj. Checkpoints carry the normalisation."""
    from mmcma.apis import apply_label_state
    from mmcma.labels.adjacency import released_normalization
    from mmcma.models.utils import LabelGCN, label_graph_adjacency

    ks = dict(kind='ks', knowledge=dict(type='file', path=knowledge_file))
    needs = {'graph': (4, 4), 'embedding': (4, 50)}
    state = compute_label_state(LABELS, CLASSES, needs, ks,
                                dict(type='file', path=_vectors(tmp_path)))
    assert state.graph_normalization == 'symmetric'
    state.save(str(tmp_path / 's.npz'))
    assert LabelState.load(
        str(tmp_path / 's.npz')).graph_normalization == 'symmetric'
    graph = torch.as_tensor(state.graph, dtype=torch.float32)
    # ML-GCN's depth and KSSNet's: one GCN module.
    for channels in ((8, 8), (6, 7, 8)):
        module = LabelGCN(4, 50, channels)
        apply_label_state(module, state)
        assert module.graph_normalization() == 'symmetric'
        torch.testing.assert_close(
            label_graph_adjacency(module, module.normalize), graph)
        copy = LabelGCN(4, 50, channels)
        copy.load_state_dict(module.state_dict())  # strict
        assert copy.graph_normalization() == 'symmetric'
    twice = LabelGCN(4, 50, (8, 8), normalize='released')
    apply_label_state(twice, state)
    with pytest.raises(ValueError, match='normalised twice'):
        twice.adjacency()
    raw = compute_label_state(LABELS, CLASSES, needs, dict(kind='mlgcn'),
                              dict(type='file', path=_vectors(tmp_path)))
    assert raw.graph_normalization == 'none'
    gcn = LabelGCN(4, 50, (8, 8))
    apply_label_state(gcn, raw)
    torch.testing.assert_close(gcn.adjacency(), released_normalization(
        torch.as_tensor(raw.graph, dtype=torch.float32)))


def _vectors(tmp_path) -> str:
    path = str(tmp_path / 'vectors.npy')
    np.save(path, np.random.default_rng(0).normal(size=(4, 50)))
    return path
