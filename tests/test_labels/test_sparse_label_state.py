"""The label state of a large label set keeps a thresholded graph sparse:
the same graph and counts as the dense path, a file of COO arrays read back
equal and refused when damaged, the dense path where the graph is dense or
the labels few, old files refused or recomputed, and a model filled from it
as from the dense state."""
import os

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch import nn

from mmcma.io import ArrayFileError
from mmcma.labels import LabelState, cached_label_state, compute_label_state
from mmcma.labels import square_arrays
from mmcma.labels import state as state_module
from mmcma.labels.knowledge import KnowledgeGraph
from mmcma.models import LabelStateMixin

from .test_sparse_graph import random_labels

LABELS = random_labels(11)  # 400 x 30, the last two never seen
N = LABELS.shape[1]
CLASSES = [f'c{i}' for i in range(N)]
NEEDS = {'graph': (N, N)}


@pytest.fixture
def knowledge(tmp_path):
    rng = np.random.default_rng(1)
    adjacency = (rng.random((N, N)) < 0.1).astype(float)
    adjacency = np.maximum(adjacency, adjacency.T)
    np.fill_diagonal(adjacency, 0)
    path = str(tmp_path / 'k.npz')
    KnowledgeGraph(np.array(CLASSES), adjacency,
                   np.where(adjacency > 0, '/r/RelatedTo', ''),
                   dict(type='test')).save(path)
    return dict(type='file', path=path)


def graph_options(kind, knowledge):
    return dict(kind='mlgcn', t=0.3) if kind == 'mlgcn' else dict(
        kind='ks', knowledge=knowledge, lam=0.6, tau=0.03)


def sparse_from_10_labels(monkeypatch):
    """Sparse states from 10 labels on, up to a density of 50%."""
    monkeypatch.setattr(state_module, 'SPARSE_MIN_LABELS', 10)
    monkeypatch.setattr(square_arrays, 'SPARSE_MAX_DENSITY', 0.5)


def both_states(kind, knowledge, monkeypatch):
    """The dense state (as before) and the sparse one."""
    options = graph_options(kind, knowledge)
    dense = compute_label_state(LABELS, CLASSES, NEEDS, options)
    sparse_from_10_labels(monkeypatch)
    return dense, compute_label_state(LABELS, CLASSES, NEEDS, options)


@pytest.mark.parametrize('kind', ['mlgcn', 'ks'])
def test_sparse_state_equals_the_dense_one(kind, knowledge, monkeypatch,
                                           tmp_path):
    dense, ours = both_states(kind, knowledge, monkeypatch)
    assert isinstance(dense.graph, np.ndarray)
    assert sp.issparse(ours.graph) and sp.issparse(ours.co_counts)
    np.testing.assert_allclose(ours.graph.toarray(), dense.graph,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ours.co_counts.toarray(), dense.co_counts)
    np.testing.assert_array_equal(ours.counts, dense.counts)
    assert ours.num_samples == dense.num_samples == LABELS.shape[0]
    assert ours.graph_normalization == dense.graph_normalization
    assert ours.graph.nnz == np.count_nonzero(dense.graph) < 0.5 * N * N
    # The file: COO arrays, read back equal (and sparse).
    path = str(tmp_path / 's.npz')
    ours.save(path)
    with np.load(path) as data:
        assert str(data['graph_layout']) == 'coo'
        assert data['graph'].shape == (0, 0)
    loaded = LabelState.load(path)
    assert sp.issparse(loaded.graph)
    np.testing.assert_array_equal(loaded.graph.toarray(),
                                  ours.graph.toarray())
    np.testing.assert_array_equal(loaded.co_counts.toarray(),
                                  dense.co_counts)
    assert 'stored sparse' in state_module.describe(loaded)


def test_edge_counts_of_describe_agree(knowledge, monkeypatch):
    dense, ours = both_states('mlgcn', knowledge, monkeypatch)
    dense_line = state_module.describe(dense).splitlines()[1]
    assert state_module.describe(ours).splitlines()[1] == \
        dense_line + ' (stored sparse)'


class GraphModule(nn.Module, LabelStateMixin):
    def __init__(self):
        super().__init__()
        self.declare_label_state('graph', (N, N))


@pytest.mark.parametrize('kind', ['mlgcn', 'ks'])
def test_a_model_is_filled_as_from_the_dense_state(kind, knowledge,
                                                   monkeypatch):
    from mmcma.apis.label_state import apply_label_state
    modules = []
    for state in both_states(kind, knowledge, monkeypatch):
        module = GraphModule()
        apply_label_state(module, state)
        modules.append(module)
    dense, ours = modules
    torch.testing.assert_close(ours.label_graph, dense.label_graph,
                               rtol=0, atol=1e-7)
    assert torch.equal(ours.label_graph_normalization,
                       dense.label_graph_normalization)


def test_dense_where_the_graph_is_dense_or_not_thresholded(monkeypatch):
    sparse_from_10_labels(monkeypatch)
    # The conditional graph (ASGE's) stays dense.
    state = compute_label_state(LABELS, CLASSES, NEEDS)
    assert isinstance(state.graph, np.ndarray)
    # A thresholded graph denser than SPARSE_MAX_DENSITY: dense too.
    monkeypatch.setattr(square_arrays, 'SPARSE_MAX_DENSITY', 0.01)
    state = compute_label_state(LABELS, CLASSES, NEEDS, dict(kind='mlgcn'))
    assert isinstance(state.graph, np.ndarray)
    assert isinstance(state.co_counts, np.ndarray)


def sparse_file(tmp_path, monkeypatch, **replace):
    sparse_from_10_labels(monkeypatch)
    state = compute_label_state(LABELS, CLASSES, NEEDS, dict(kind='mlgcn'))
    arrays = state.arrays()
    arrays.update(replace)
    path = str(tmp_path / 'bad.npz')
    np.savez(path, **arrays)
    return path, state


@pytest.mark.parametrize('replace, message', [
    (lambda a: {'graph_indices': a['graph_indices'] + N}, 'outside'),
    (lambda a: {'graph_indices': -a['graph_indices'] - 1}, 'outside'),
    (lambda a: {'graph_indices': np.hstack([a['graph_indices'][:, :1]] * 2),
                'graph_values': np.array([0.5, 0.5])}, 'more than once'),
    (lambda a: {'graph_values': np.where(
        np.arange(a['graph_values'].size) == 0, np.nan,
        a['graph_values'])}, 'NaN'),
    (lambda a: {'graph_values': a['graph_values'][:-1]}, 'COO arrays'),
    (lambda a: {'graph_layout': np.asarray('csc')}, 'unknown layout'),
    (lambda a: {'graph_indices': a['graph_indices'].astype(float)}, 'kind'),
    (lambda a: {'co_counts_values': -a['co_counts_values']}, 'negative'),
    (lambda a: {'graph_layout': np.asarray('dense'),
                'graph': np.eye(N)}, 'inconsistent'),  # sparse counts
])
def test_damaged_sparse_files_are_refused(replace, message, tmp_path,
                                          monkeypatch):
    path, state = sparse_file(tmp_path, monkeypatch)
    path, _ = sparse_file(tmp_path, monkeypatch, **replace(state.arrays()))
    with pytest.raises(ArrayFileError, match=message):
        LabelState.load(path)


def old_format_file(state: LabelState, path: str) -> None:
    """A file as mmcma wrote it up to cache version 4: the fields alone."""
    np.savez(path, **{k: np.asarray(getattr(state, k))
                      for k in state.__dataclass_fields__})


def test_an_old_file_is_refused_clearly_and_an_old_cache_recomputed(
        tmp_path):
    state = compute_label_state(LABELS, CLASSES, NEEDS, dict(kind='mlgcn'))
    path = str(tmp_path / 'old.npz')
    old_format_file(state, path)
    with pytest.raises(ArrayFileError, match='older mmcma.*compute the '
                       'state again'):
        LabelState.load(path)
    # A cache entry in the old format (as if under the current key):
    # recomputed with a warning, and rewritten in the new format.
    cache = tmp_path / 'cache'
    os.makedirs(cache)
    key = state_module.label_state_key(LABELS, CLASSES, NEEDS,
                                       dict(kind='mlgcn'))
    old_format_file(state, str(cache / f'{key}.npz'))
    with pytest.warns(UserWarning, match='recomputing.*older mmcma'):
        again = cached_label_state(LABELS, CLASSES, NEEDS, dict(kind='mlgcn'),
                                   cache_dir=str(cache))
    np.testing.assert_array_equal(again.graph, state.graph)
    assert str(LabelState.load(str(cache / f'{key}.npz')).key) == key


def test_the_cache_version_is_part_of_the_key(monkeypatch):
    key = state_module.label_state_key(LABELS, CLASSES, NEEDS)
    monkeypatch.setattr(state_module, 'CACHE_VERSION', 4)
    assert state_module.label_state_key(LABELS, CLASSES, NEEDS) != key


@pytest.mark.parametrize('kind', ['mlgcn', 'ks', 'conditional'])
def test_a_sparse_label_matrix_gives_the_dense_matrix_state(
        kind, knowledge, monkeypatch):
    """compute_label_state of a scipy CSR label matrix: the same key and
    the same arrays as of the dense matrix (sparse graphs included)."""
    options = dict(kind='conditional') if kind == 'conditional' else \
        graph_options(kind, knowledge)
    sparse_from_10_labels(monkeypatch)
    dense = compute_label_state(LABELS, CLASSES, NEEDS, options)
    ours = compute_label_state(sp.csr_matrix(LABELS), CLASSES, NEEDS,
                               options)
    assert ours.key == dense.key
    assert ours.num_samples == dense.num_samples
    np.testing.assert_array_equal(ours.counts, dense.counts)
    for name in ('graph', 'co_counts'):
        a, b = getattr(ours, name), getattr(dense, name)
        assert sp.issparse(a) == sp.issparse(b)
        if sp.issparse(a):
            a, b = a.toarray(), b.toarray()
        np.testing.assert_array_equal(a, b)
    if kind == 'mlgcn':
        assert sp.issparse(ours.graph)


def test_the_key_of_a_sparse_matrix_hashes_chunks_exactly():
    from mmcma.labels.graphs.counts import hash_label_matrix
    import hashlib
    labels = np.zeros((21, 5), np.uint8)
    labels[np.arange(21), np.arange(21) % 5] = 1
    digests = []
    for matrix, chunk in ((labels, 8192), (sp.csr_matrix(labels), 8),
                          (sp.csr_matrix(labels), 16)):
        h = hashlib.sha256()
        hash_label_matrix(h, matrix, chunk)
        digests.append(h.hexdigest())
    assert len(set(digests)) == 1
    changed = labels.copy()
    changed[20, 1] = 1
    h = hashlib.sha256()
    hash_label_matrix(h, sp.csr_matrix(changed), 8)
    assert h.hexdigest() != digests[0]
