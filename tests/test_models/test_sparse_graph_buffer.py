"""The label graph kept sparse as module buffers: the same GCN outputs and
gradients as the dense buffer, a state dict of O(nnz), strict checkpoint
round trips, conversions between layouts and clear errors; small label sets
and the demo configs keep their dense buffer and checkpoint keys."""
import io

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_state_dict
from mmpretrain.registry import MODELS

from mmcma.labels.square_arrays import SPARSE_MAX_DENSITY, SPARSE_MIN_LABELS
from mmcma.models.utils import LabelGCN
from tests.helpers.gcn_models import assert_same_layers_and_gradients

GRAPH_KEYS = ('label_graph', 'label_graph_indices', 'label_graph_values')


def random_graph(n: int, density: float, seed: int = 0) -> sp.csr_matrix:
    """A raw graph in [0, 1] with the diagonal and about ``density * n * n``
    random off-diagonal entries."""
    rng = np.random.default_rng(seed)
    m = max(int(density * n * n) - n, 0)
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    graph = sp.coo_matrix((rng.uniform(0.05, 0.3, m), (rows, cols)),
                          shape=(n, n)).tocsr()
    graph = (graph + sp.eye(n) * 0.7).tocsr()
    graph.data = np.minimum(graph.data, 1.0)  # repeats were summed
    return graph


def make_gcn(n: int, graph, seed: int = 0, **kwargs) -> LabelGCN:
    torch.manual_seed(seed)
    gcn = LabelGCN(n, embed_dim=6, channels=(8, 5), **kwargs)
    gcn.set_label_state('graph', graph)
    gcn.set_label_state('embedding', torch.randn(n, 6))
    return gcn


def graph_bytes(state: dict) -> int:
    return sum(state[k].numel() * state[k].element_size() for k in GRAPH_KEYS
               if k in state)


@pytest.mark.parametrize('normalize', [None, 'symmetric', 'none'])
def test_sparse_buffer_forward_backward_equal_dense(normalize):
    n = SPARSE_MIN_LABELS + 40
    graph = random_graph(n, 0.004)
    dense = make_gcn(n, graph.toarray(), sparse=False, normalize=normalize)
    sparse = make_gcn(n, graph, normalize=normalize)  # sparse=None: rule
    assert dense.label_graph.shape == (n, n)
    assert sparse.label_graph.numel() == 0
    assert sparse.label_graph_values.numel() == graph.nnz
    assert sparse.label_state('graph').is_sparse
    torch.testing.assert_close(sparse.label_state('graph').to_dense(),
                               dense.label_state('graph'), rtol=0, atol=0)
    assert_same_layers_and_gradients(dense, sparse)


def test_state_dict_is_o_nnz_not_o_n_squared():
    n = 2048
    graph = random_graph(n, 0.002)
    gcn = make_gcn(n, graph)
    state = gcn.state_dict()
    nnz = graph.nnz
    assert nnz < 0.0025 * n * n
    assert tuple(state['label_graph'].shape) == (0, 0)
    # int64 row and column + float32 value per non-zero entry, nothing else.
    assert graph_bytes(state) == 20 * nnz
    assert graph_bytes(state) < 0.01 * 4 * n * n
    buffer = io.BytesIO()
    torch.save(state, buffer)
    weights = sum(p.numel() * 4 for p in gcn.parameters()) + n * 6 * 4
    assert buffer.tell() < weights + 20 * nnz + 100_000


def test_save_strict_load_round_trip():
    n = SPARSE_MIN_LABELS
    gcn = make_gcn(n, random_graph(n, 0.003), normalize='symmetric')
    buffer = io.BytesIO()
    torch.save(gcn.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    fresh = LabelGCN(n, embed_dim=6, channels=(8, 5), normalize='symmetric')
    fresh.load_state_dict(state, strict=True)
    assert fresh.label_graph_values.shape == gcn.label_graph_values.shape
    for a, b in zip(fresh(), gcn()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # mmengine's loader (load_checkpoint) goes through the same hook.
    other = LabelGCN(n, embed_dim=6, channels=(8, 5), normalize='symmetric')
    load_state_dict(other, state, strict=True)
    torch.testing.assert_close(other()[-1], gcn()[-1], rtol=0, atol=0)


def test_layouts_convert_on_load():
    n = SPARSE_MIN_LABELS
    graph = random_graph(n, 0.003)
    dense = make_gcn(n, graph.toarray(), sparse=False)
    sparse = make_gcn(n, graph)
    # A dense checkpoint into sparse storage: laid out by the one rule.
    into_sparse = LabelGCN(n, embed_dim=6, channels=(8, 5))
    into_sparse.load_state_dict(dense.state_dict(), strict=True)
    assert into_sparse.label_graph.numel() == 0
    torch.testing.assert_close(into_sparse()[-1], dense()[-1], rtol=1e-5,
                               atol=1e-6)
    # A sparse checkpoint into a dense buffer: densified.
    into_dense = LabelGCN(n, embed_dim=6, channels=(8, 5), sparse=False)
    into_dense.load_state_dict(sparse.state_dict(), strict=True)
    assert into_dense.label_graph.shape == (n, n)
    torch.testing.assert_close(into_dense.label_state('graph'),
                               dense.label_state('graph'), rtol=0, atol=0)


def test_unfilled_dense_checkpoint_leaves_sparse_storage_empty():
    n = SPARSE_MIN_LABELS
    empty = LabelGCN(n, embed_dim=6, channels=(8, 5), sparse=False)
    gcn = LabelGCN(n, embed_dim=6, channels=(8, 5))
    gcn.load_state_dict(empty.state_dict(), strict=True)
    assert gcn.label_graph.numel() == 0
    assert not gcn.is_label_state_ready('graph')
    with pytest.raises(RuntimeError, match='never filled'):
        gcn.label_state('graph')


def test_deepcopy_pickle_and_device_moves_keep_the_sparse_graph():
    import copy
    import pickle
    n = SPARSE_MIN_LABELS
    gcn = make_gcn(n, random_graph(n, 0.003))
    expected = gcn()[-1]
    for other in (copy.deepcopy(gcn), pickle.loads(pickle.dumps(gcn)),
                  copy.deepcopy(gcn).double().float()):
        assert other.label_graph.numel() == 0
        torch.testing.assert_close(other()[-1], expected, rtol=1e-6,
                                   atol=1e-6)
    # The copy's hook resizes its own buffers, not the original's.
    copied = copy.deepcopy(gcn)
    copied.load_state_dict(make_gcn(n, random_graph(n, 0.002, seed=1))
                           .state_dict())
    assert copied.label_graph_values.numel() != \
        gcn.label_graph_values.numel()
    torch.testing.assert_close(gcn()[-1], expected, rtol=0, atol=0)


def test_dense_graph_keeps_dense_layout_by_the_rule():
    n = SPARSE_MIN_LABELS
    graph = random_graph(n, 2 * SPARSE_MAX_DENSITY)
    gcn = make_gcn(n, graph)
    assert gcn.label_graph.shape == (n, n)
    assert gcn.label_graph_values.numel() == 0
    assert not gcn.adjacency().is_sparse
    # sparse=True keeps it sparse whatever its density.
    forced = make_gcn(n, graph, sparse=True)
    assert forced.label_graph.numel() == 0
    torch.testing.assert_close(forced()[-1], gcn()[-1], rtol=1e-5,
                               atol=1e-6)


def test_strict_load_errors():
    n = SPARSE_MIN_LABELS
    state = make_gcn(n, random_graph(n, 0.003)).state_dict()
    other = LabelGCN(n + 1, embed_dim=6, channels=(8, 5))
    with pytest.raises(RuntimeError, match='outside|shape'):
        other.load_state_dict(state, strict=True)
    fresh = LabelGCN(n, embed_dim=6, channels=(8, 5))
    broken = dict(state, label_graph_values=state['label_graph_values'][1:])
    with pytest.raises(RuntimeError, match=r'\(2, nnz\) indices'):
        fresh.load_state_dict(broken, strict=True)
    indices = state['label_graph_indices'].clone()
    indices[:, 1] = indices[:, 0]
    with pytest.raises(RuntimeError, match='repeat'):
        fresh.load_state_dict(dict(state, label_graph_indices=indices))
    partial = {k: v for k, v in state.items() if k != 'label_graph_values'}
    with pytest.raises(RuntimeError, match='only one of'):
        fresh.load_state_dict(partial, strict=True)
    small = LabelGCN(12, embed_dim=6, channels=(8, 5))
    with pytest.raises(RuntimeError, match='another label set'):
        small.load_state_dict(state, strict=True)


def test_filled_values_are_checked():
    n = SPARSE_MIN_LABELS
    gcn = LabelGCN(n, embed_dim=6, channels=(8, 5))
    bad = random_graph(n, 0.003) * 5.0
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        gcn.set_label_state('graph', bad)
    with pytest.raises(ValueError, match='shape'):
        gcn.set_label_state('graph', random_graph(n - 1, 0.003))
    with pytest.raises(ValueError, match='all zero'):
        gcn.set_label_state('graph', sp.csr_matrix((n, n)))


@pytest.mark.parametrize('name', ['kssnet', 'mlgcn'])
def test_demo_configs_keep_the_dense_buffer_and_their_keys(name):
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(
        f'configs/demo/{name}_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
    model = MODELS.build(cfg.model)
    gcn = model.backbone.gcn
    n = gcn.num_classes
    assert n < SPARSE_MIN_LABELS
    state = model.state_dict()
    assert tuple(state['backbone.gcn.label_graph'].shape) == (n, n)
    assert not any('label_graph_indices' in k or 'label_graph_values' in k
                   for k in state)
    # A checkpoint of today's layout loads strictly into a fresh model.
    gcn.set_label_state('graph', 0.2 + 0.8 * torch.rand(n, n))
    gcn.set_label_state('embedding', torch.randn(*gcn.label_embedding.shape))
    fresh = MODELS.build(cfg.model)
    fresh.load_state_dict(model.state_dict(), strict=True)
    torch.testing.assert_close(fresh.backbone.gcn()[-1], gcn()[-1])


def test_a_model_filled_from_a_sparse_label_state_keeps_it_sparse():
    from mmcma.labels import compute_label_state
    from tests.helpers.gcn_models import gcn_model
    n = SPARSE_MIN_LABELS
    rng = np.random.default_rng(3)
    labels = np.zeros((3000, n), np.uint8)
    for row in labels:
        row[rng.choice(n, 3, replace=False)] = 1
    state = compute_label_state(labels, [f'c{i}' for i in range(n)],
                                {'graph': (n, n)}, dict(kind='mlgcn'))
    assert sp.issparse(state.graph)
    models = []
    for sparse in (None, False):
        model = gcn_model((8, 64), ('layer1', ), num_classes=n, fill=False,
                          gcn=dict(sparse=sparse))
        gcn = model.backbone.gcn
        gcn.set_label_state('graph', state.graph, state.graph_normalization)
        torch.manual_seed(1)
        gcn.set_label_state('embedding', torch.randn(n, 4))
        models.append(model.eval())
    ours, dense = models
    keys = ours.state_dict()
    assert tuple(keys['backbone.gcn.label_graph'].shape) == (0, 0)
    assert keys['backbone.gcn.label_graph_values'].numel() == state.graph.nnz
    assert max(v.numel() for v in keys.values()) < n * n
    assert dense.backbone.gcn.label_graph.shape == (n, n)
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(images), dense(images), rtol=1e-5,
                                   atol=1e-6)
