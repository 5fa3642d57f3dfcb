"""ML-GCN head: graph normalisation, GCN propagation and pooling against
slow references, the released graph construction on real VOC 2007 labels,
the head's logits, gradients and loss scale."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmcma
from mmcma.labels.adjacency import \
    released_normalization as mlgcn_adjacency
from mmcma.models.heads import MLGCNHead, gcn_propagate, global_max_pool
from mmcma.models.utils import MaskedFeature
from tests.helpers.references import adjacency_loops, gcn_loops
from tests.helpers.voc import VOC_CLASSES


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


def test_gcn_propagate_matches_loops():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 3))
    adjacency = rng.random((4, 4))
    weights = [rng.normal(size=(3, 5)), rng.normal(size=(5, 2))]
    ours = gcn_propagate(torch.from_numpy(x), torch.from_numpy(adjacency),
                         [torch.from_numpy(w) for w in weights], 0.2)
    np.testing.assert_allclose(
        ours.numpy(), gcn_loops(x, adjacency, weights, 0.2), rtol=1e-12)
    # No activation after the last layer: outputs can be negative.
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
    # The head keeps the graph as a float32 buffer: close to float64.
    head = MLGCNHead(20, 8, embed_dim=4, hidden_channels=(6, ))
    head.set_label_state('graph', graph)
    np.testing.assert_allclose(head.adjacency().numpy(), ours, rtol=1e-6,
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


# ------------------------------------------------------------------- head
def make_head(**kwargs):
    torch.manual_seed(0)
    options = dict(num_classes=5, in_channels=6, embed_dim=4,
                   hidden_channels=(7, ))
    options.update(kwargs)
    head = MLGCNHead(**options)
    graph = np.eye(5) + 0.25 * (np.random.default_rng(0).random((5, 5)) > 0.5)
    head.set_label_state('graph', np.clip(graph, 0, 1))
    head.set_label_state('embedding', torch.randn(5, 4))
    return head


def samples(labels):
    return [DataSample().set_gt_label(torch.tensor(row)) for row in labels]


def test_head_logits_are_pooled_features_times_gcn_output():
    head = make_head()
    feats = (torch.randn(2, 6, 3, 3), )
    graph = head.label_state('graph').double()
    weights = [w.detach().double() for w in head.gcn_weights]
    classifiers = gcn_loops(head.label_state('embedding').double().numpy(),
                            adjacency_loops(graph.numpy()),
                            [w.numpy() for w in weights], 0.2)
    pooled = feats[0].double().amax(dim=(2, 3)).numpy()
    np.testing.assert_allclose(head(feats).detach().numpy(),
                               pooled @ classifiers.T, rtol=1e-4, atol=1e-5)
    assert head(feats).shape == (2, 5)


def test_head_normalize_none_uses_graph_as_given():
    head = make_head(normalize='none')
    expected = gcn_propagate(head.label_state('embedding'),
                             head.label_state('graph'),
                             list(head.gcn_weights))
    torch.testing.assert_close(head.label_classifiers(), expected)


def test_gradients_reach_gcn_weights_and_backbone_features():
    head = make_head()
    feats = torch.randn(3, 6, 2, 2, requires_grad=True)
    loss = head.loss((feats, ), samples([[0], [1, 3], [4]]))['loss']
    loss.backward()
    assert feats.grad is not None and feats.grad.abs().sum() > 0
    for weight in head.gcn_weights:
        assert weight.grad is not None and weight.grad.abs().sum() > 0
    # The label state is not trained.
    assert not any(name.startswith('label_')
                   for name, _ in head.named_parameters())


@pytest.mark.parametrize('loss', [
    dict(type='CrossEntropyLoss', use_sigmoid=True),
    dict(type='ClassImbalanceBCELoss', beta=0.0),
])
def test_loss_is_multilabel_soft_margin(loss):
    init_default_scope('mmpretrain')
    head = make_head(loss=loss)
    feats = (torch.randn(4, 6, 2, 2), )
    labels = [[0, 2], [1], [3, 4], [2]]
    target = torch.zeros(4, 5)
    for i, row in enumerate(labels):
        target[i, row] = 1
    expected = torch.nn.MultiLabelSoftMarginLoss()(head(feats), target)
    ours = head.loss(feats, samples(labels))['loss']
    torch.testing.assert_close(ours, expected)


def test_unfilled_state_is_a_clear_error():
    head = MLGCNHead(num_classes=3, in_channels=4, embed_dim=2)
    with pytest.raises(RuntimeError, match='never filled'):
        head((torch.randn(1, 4, 2, 2), ))


def test_wrong_channels_and_options_raise():
    head = make_head()
    with pytest.raises(ValueError, match='expects 6 feature channels'):
        head((torch.randn(1, 5, 2, 2), ))
    with pytest.raises(ValueError, match='normalize'):
        MLGCNHead(num_classes=3, in_channels=4, normalize='sym')
    with pytest.raises(ValueError, match='positive'):
        MLGCNHead(num_classes=3, in_channels=4, hidden_channels=(0, ))


def test_registered_with_released_defaults():
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    head = MODELS.build(dict(type='MLGCNHead', num_classes=3,
                             in_channels=2048))
    assert [tuple(w.shape) for w in head.gcn_weights] == [(300, 1024),
                                                          (1024, 2048)]
    assert head.label_state_shapes() == {'embedding': (3, 300),
                                         'graph': (3, 3)}
    for weight in head.gcn_weights:
        bound = 1 / weight.size(1)**0.5
        assert weight.abs().max() <= bound
        assert weight.abs().max() > 0.9 * bound  # uniform over the range
