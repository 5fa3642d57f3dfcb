"""The GCN of ML-GCN and KSSNet: graph normalisation, every layer of the
GCN and the pooling against slow references, ML-GCN's released graph
construction on real VOC 2007 labels, the LabelGCN module (depths, inits,
normalisation options)."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmcma
from mmcma.labels.adjacency import \
    released_normalization as mlgcn_adjacency
from mmcma.models.utils import (LabelGCN, MaskedFeature, gcn_layers,
                                global_max_pool)
from tests.helpers.references import adjacency_loops, gcn_loops
from tests.helpers.voc import VOC_CLASSES

N = 5


def test_adjacency_matches_definition():
    rng = np.random.default_rng(0)
    graph = rng.random((5, 5)) * (rng.random((5, 5)) > 0.4) + np.eye(5)
    ours = mlgcn_adjacency(torch.from_numpy(graph)).numpy()
    np.testing.assert_allclose(ours, adjacency_loops(graph.tolist()),
                               rtol=1e-14)
    # The graph is not symmetric: the transpose matters.
    assert not np.allclose(ours, ours.T)


def test_adjacency_hand_worked():
    graph = torch.tensor([[1.0, 0.0], [3.0, 1.0]], dtype=torch.float64)
    # Row sums 1 and 4; A_hat_ij = A_ji / sqrt(d_i d_j).
    expected = torch.tensor([[1.0, 3 / 2], [0.0, 1 / 4]], dtype=torch.float64)
    torch.testing.assert_close(mlgcn_adjacency(graph), expected)


def test_adjacency_zero_row_is_isolated_not_inf():
    graph = torch.tensor([[0.0, 0.0], [0.5, 1.0]])
    out = mlgcn_adjacency(graph)
    assert torch.isfinite(out).all()
    assert out[:, 0].eq(0).all() and out[0].eq(0).all()
    assert out[1, 1] == pytest.approx(1 / 1.5)


def test_gcn_layers_match_loops():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 3))
    adjacency = rng.random((4, 4))
    weights = [rng.normal(size=(3, 5)), rng.normal(size=(5, 2))]
    hidden, ours = gcn_layers(torch.from_numpy(x),
                              torch.from_numpy(adjacency),
                              [torch.from_numpy(w) for w in weights], 0.2)
    np.testing.assert_allclose(
        ours.numpy(), gcn_loops(x, adjacency, weights, 0.2), rtol=1e-12)
    # LeakyReLU after the hidden layer, none after the last: the
    # classifiers can be negative.
    loops = gcn_loops(x, adjacency, weights[:1], 0.2)
    np.testing.assert_allclose(hidden.numpy(),
                               np.where(loops > 0, loops, 0.2 * loops),
                               rtol=1e-12)
    assert (ours < 0).any()


def test_global_max_pool():
    feat = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    torch.testing.assert_close(global_max_pool(MaskedFeature(feat)),
                               feat[:, :, -1])
    mask = torch.tensor([[True, True, False, False],
                         [False, False, False, False]])
    pooled = global_max_pool(MaskedFeature(feat, mask))
    torch.testing.assert_close(pooled[0], feat[0, :, 1])
    torch.testing.assert_close(pooled[1], torch.zeros(3))  # nothing valid
    flat = torch.rand(2, 3)
    assert global_max_pool(MaskedFeature(flat)) is flat


# ------------------------------------------------- released graph, VOC 2007
def released_graph_loops(raw, t=0.4, p=0.25):
    """ML-GCN's released construction, written out: counts of each label
    and of each pair of distinct labels (positives only, VOC value 1), then
    gen_A: P(j | i) binarised at t, each column scaled to sum to p (with the
    code's 1e-6), plus the identity."""
    n = raw.shape[1]
    nums = [0] * n
    adj = [[0] * n for _ in range(n)]
    for row in raw.tolist():
        positives = [k for k in range(n) if row[k] == 1]
        for i in positives:
            nums[i] += 1
            for j in positives:
                if i != j:
                    adj[i][j] += 1
    edges = [[1.0 if adj[i][j] / nums[i] >= t else 0.0 for j in range(n)]
             for i in range(n)]
    column = [sum(edges[k][j] for k in range(n)) for j in range(n)]
    return [[edges[i][j] * p / (column[j] + 1e-6) + (i == j)
             for j in range(n)] for i in range(n)]


def test_released_graph_on_voc_matches_released_construction(voc):
    """build_label_graph + the head's normalisation reproduce gen_A and
    gen_adj on the real VOC 2007 trainval labels (difficult = absent)."""
    voc_raw, _ = voc
    reference = released_graph_loops(voc_raw)
    graph = mmcma.build_label_graph((voc_raw == 1).astype(np.uint8),
                                    kind='mlgcn', variant='released', t=0.4)
    np.testing.assert_allclose(graph, reference, rtol=1e-13, atol=0)
    ours = mlgcn_adjacency(torch.from_numpy(graph)).numpy()
    np.testing.assert_allclose(ours, adjacency_loops(reference), rtol=1e-13)
    # The GCN keeps the graph as a float32 buffer: close to float64.
    gcn = LabelGCN(20, embed_dim=4, channels=(6, 8))
    gcn.set_label_state('graph', graph)
    np.testing.assert_allclose(gcn.adjacency().numpy(), ours, rtol=1e-6,
                               atol=1e-7)
    # What the statistics say at t = 0.4: P(person | j) >= 0.4 for bicycle,
    # bottle, dining table, horse, motorbike, P(chair | dining table) too.
    # Five labels feed person, so each of those edges weighs 0.25 / 5.
    edges = {(VOC_CLASSES[i], VOC_CLASSES[j])
             for i, j in zip(*np.nonzero(graph - np.eye(20)))}
    assert edges == {(name, 'person') for name in (
        'bicycle', 'bottle', 'diningtable', 'horse', 'motorbike')} | {
            ('diningtable', 'chair')}
    person = VOC_CLASSES.index('person')
    assert graph[VOC_CLASSES.index('horse'), person] == pytest.approx(0.05)


# ------------------------------------------------------------------- GCN
def filled_gcn(**kwargs):
    torch.manual_seed(0)
    gcn = LabelGCN(N, embed_dim=4, channels=(6, 7, 3), **kwargs)
    graph = np.eye(N) + 0.3 * (np.random.default_rng(0).random((N, N)) > .5)
    gcn.set_label_state('graph', np.clip(graph, 0, 1))
    gcn.set_label_state('embedding', torch.randn(N, 4))
    return gcn


def test_label_gcn_layers_match_loops():
    """E^(l) for every l: hidden ones after LeakyReLU(0.2), the last
    without (ML-GCN's classifiers), over ML-GCN's normalised graph."""
    gcn = filled_gcn()
    graph = gcn.label_state('graph').double().numpy()
    emb = gcn.label_state('embedding').double().numpy()
    weights = [w.detach().double().numpy() for w in gcn.gcn_weights]
    outputs = gcn()
    assert [tuple(o.shape) for o in outputs] == [(N, 6), (N, 7), (N, 3)]
    for layer, out in enumerate(outputs, 1):
        expected = gcn_loops(emb, adjacency_loops(graph), weights[:layer],
                             0.2)
        if layer < len(weights):
            expected = np.where(expected > 0, expected, 0.2 * expected)
        np.testing.assert_allclose(out.detach().numpy(), expected,
                                   rtol=1e-4, atol=1e-5)
    assert (outputs[-1] < 0).any()


def test_gcn_normalize_none_and_kaiming_init():
    gcn = filled_gcn(normalize='none')
    graph = gcn.label_state('graph').double().numpy()
    emb = gcn.label_state('embedding').double().numpy()
    weights = [w.detach().double().numpy() for w in gcn.gcn_weights]
    np.testing.assert_allclose(gcn()[-1].detach().numpy(),
                               gcn_loops(emb, graph, weights, 0.2),
                               rtol=1e-4, atol=1e-5)
    torch.manual_seed(0)
    big = LabelGCN(N, embed_dim=300, channels=(256, 64), init='kaiming')
    for weight in big.gcn_weights:
        # He uniform for LeakyReLU(0.2): sqrt(2 / (1 + 0.2^2)) sqrt(3 / in)
        bound = (2 / 1.04)**0.5 * (3 / weight.size(0))**0.5
        assert bound * 0.95 < weight.abs().max() <= bound
    uniform = LabelGCN(N, embed_dim=300, channels=(256, 64), init='uniform')
    for weight in uniform.gcn_weights:  # ML-GCN's U(-1/sqrt(out), ...)
        bound = weight.size(1)**-0.5
        assert bound * 0.95 < weight.abs().max() <= bound
    with pytest.raises(ValueError, match='init'):
        LabelGCN(N, init='xavier')
    with pytest.raises(ValueError, match='normalize'):
        LabelGCN(N, normalize='sym')


def test_registered_with_released_defaults():
    """ML-GCN's released GCN (300 -> 1024 -> C) with its uniform init, as
    the ML-GCN configs build it."""
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    backbone = MODELS.build(dict(
        type='LateralGCNBackbone', num_classes=3,
        backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
        gcn=dict(embed_dim=300, channels=(1024, 2048)), stages=()))
    gcn = backbone.gcn
    assert [tuple(w.shape) for w in gcn.gcn_weights] == [(300, 1024),
                                                         (1024, 2048)]
    assert gcn.label_state_shapes() == {'embedding': (3, 300),
                                        'graph': (3, 3)}
    assert len(backbone.laterals) == 0
    for weight in gcn.gcn_weights:
        bound = 1 / weight.size(1)**0.5
        assert weight.abs().max() <= bound
        assert weight.abs().max() > 0.9 * bound  # uniform over the range
