"""ASGE: the loss (reference and memory-lean forms), the network, the fit."""
import itertools
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch import nn

from mmcma.labels import square_arrays
from mmcma.labels.vectors import ASGENet, ASGEResult, fit_asge
from mmcma.labels.vectors import asge as asge_module
from mmcma.labels.vectors import asge_loss as loss_module
from mmcma.labels.vectors.asge_loss import (ASGETarget, asge_loss,
                                       evaluate_asge_loss, summed_asge_loss)
from mmcma.labels.graphs import build_label_graph


def loop_loss(embeddings, adjacency, alpha=None):
    """The paper's double sum, one pair at a time."""
    total = 0.0
    n = len(embeddings)
    for i in range(n):
        for j in range(n):
            norm = np.linalg.norm(embeddings[i]) * np.linalg.norm(
                embeddings[j])
            cos = embeddings[i] @ embeddings[j] / norm if norm > 0 else 0.0
            relaxed = (alpha is not None and adjacency[i, j] < alpha
                       and cos < alpha)
            total += 0.0 if relaxed else (cos - adjacency[i, j])**2
    return total


def mixed_case(seed=0, n=7, dim=4):
    """Embeddings with cosines of both signs and a graph with small entries.

    With alpha = 0.3 some pairs are relaxed (both below) and some are not.
    """
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(size=(n, dim))
    adjacency = rng.random((n, n))**2
    np.fill_diagonal(adjacency, 1.0)
    return embeddings, adjacency


def relaxed_pairs(embeddings, adjacency, alpha):
    units = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    return (adjacency < alpha) & (units @ units.T < alpha)


@pytest.mark.parametrize('alpha', [None, 0.3])
def test_asge_loss_matches_double_loop(alpha):
    embeddings, adjacency = mixed_case()
    if alpha is not None:
        relaxed = relaxed_pairs(embeddings, adjacency, alpha)
        assert 5 < relaxed.sum() < relaxed.size - 5  # really mixed
    expected = loop_loss(embeddings, adjacency, alpha)
    e, a = torch.tensor(embeddings), torch.tensor(adjacency)
    assert asge_loss(e, a, alpha).item() == pytest.approx(expected, rel=1e-12)
    assert asge_loss(
        e, a, alpha, reduction='mean').item() == pytest.approx(
            expected / adjacency.size, rel=1e-12)


def test_relaxation_changes_the_loss():
    embeddings, adjacency = mixed_case()
    e, a = torch.tensor(embeddings), torch.tensor(adjacency)
    assert asge_loss(e, a, 0.3).item() < asge_loss(e, a).item()


def test_zero_embedding_has_cosine_zero():
    embeddings, adjacency = mixed_case()
    embeddings[2] = 0.0
    e = torch.tensor(embeddings, requires_grad=True)
    loss = asge_loss(e, torch.tensor(adjacency))
    assert loss.item() == pytest.approx(
        loop_loss(embeddings, adjacency), rel=1e-12)
    loss.backward()
    assert torch.isfinite(e.grad).all()


def test_asge_loss_gradient():
    embeddings, adjacency = mixed_case()
    e = torch.tensor(embeddings, requires_grad=True)
    a = torch.tensor(adjacency)
    assert torch.autograd.gradcheck(lambda x: asge_loss(x, a, 0.3), (e, ))


def test_asge_loss_bad_arguments():
    e, a = torch.rand(3, 2), torch.rand(3, 3)
    with pytest.raises(ValueError, match='reduction'):
        asge_loss(e, a, reduction='none')
    with pytest.raises(ValueError, match='adjacency'):
        asge_loss(e, torch.rand(3, 4))


def sparse_case(symmetric, n=40, seed=1):
    """Embeddings of both signs and a graph 20% non-zero, diagonal 1."""
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(size=(n, 6))
    adjacency = rng.random((n, n))
    adjacency[adjacency < 0.8] = 0.0
    if symmetric:
        adjacency = (adjacency + adjacency.T) / 2
    np.fill_diagonal(adjacency, 1.0)
    return embeddings, adjacency


def use_sparse_blocks(monkeypatch, n):
    """Force CSR graphs (the one sparsity rule, ``sparse_by_rule``) and
    column blocks of 3 labels at size ``n``."""
    monkeypatch.setattr(loss_module, '_BLOCK_ENTRIES', 3 * n)
    monkeypatch.setattr(square_arrays, 'SPARSE_MIN_LABELS', 2)
    monkeypatch.setattr(square_arrays, 'SPARSE_MAX_DENSITY', 0.5)


# The memory-lean loss used by fit_asge against the reference asge_loss.
@pytest.mark.parametrize('alpha', [None, 0.3])
@pytest.mark.parametrize('symmetric', [True, False])
@pytest.mark.parametrize('layout', ['dense', 'sparse-and-blocked'])
def test_lean_loss_matches_reference(monkeypatch, alpha, symmetric, layout):
    embeddings, adjacency = sparse_case(symmetric)
    if layout != 'dense':
        use_sparse_blocks(monkeypatch, len(adjacency))
    target = ASGETarget.from_adjacency(adjacency, alpha, 'cpu')
    graph = target.symmetric if alpha is None else target.transposed
    assert graph.layout == (
        torch.strided if layout == 'dense' else torch.sparse_csr)
    if alpha is not None:
        assert 0 < target.positives.values().numel() < adjacency.size / 2

    reference_e = torch.tensor(embeddings, requires_grad=True)
    reference = asge_loss(reference_e, torch.tensor(adjacency), alpha)
    reference.backward()
    lean_e = torch.tensor(embeddings, dtype=torch.float32, requires_grad=True)
    lean = summed_asge_loss(lean_e, target)
    lean.backward()

    assert lean.item() == pytest.approx(reference.item(), rel=1e-5)
    torch.testing.assert_close(
        lean_e.grad, reference_e.grad.float(), rtol=1e-4, atol=1e-5)
    evaluated = evaluate_asge_loss(lean_e, adjacency, alpha)
    assert evaluated == pytest.approx(
        loop_loss(lean_e.detach().double().numpy(), adjacency, alpha),
        rel=1e-10)


def sampled_reference(embeddings, adjacency, alpha, columns):
    """The sampled relaxed loss written densely: pairs with A >= alpha
    exactly, the others in ``columns`` only, times N / len(columns)."""
    units = torch.nn.functional.normalize(embeddings, dim=1)
    cosine = units @ units.t()
    residual = (cosine - adjacency).square()
    related = adjacency >= alpha
    active = ~related & (cosine >= alpha).detach()
    in_columns = torch.zeros_like(related)
    in_columns[:, columns] = True
    scale = len(adjacency) / len(columns)
    return (residual[related].sum() +
            scale * residual[active & in_columns].sum())


@pytest.mark.parametrize('symmetric', [True, False])
@pytest.mark.parametrize('layout', ['dense', 'sparse-and-blocked'])
def test_sampled_loss_uses_the_given_columns(monkeypatch, symmetric, layout):
    embeddings, adjacency = sparse_case(symmetric)
    if layout != 'dense':
        use_sparse_blocks(monkeypatch, len(adjacency))
    columns = torch.tensor([31, 2, 17, 5, 8, 39, 0])
    target = ASGETarget.from_adjacency(adjacency, 0.3, 'cpu')

    reference_e = torch.tensor(embeddings, requires_grad=True)
    reference = sampled_reference(reference_e, torch.tensor(adjacency), 0.3,
                                  columns)
    reference.backward()
    lean_e = torch.tensor(embeddings, dtype=torch.float32, requires_grad=True)
    lean = summed_asge_loss(lean_e, target, columns)
    lean.backward()

    assert lean.item() == pytest.approx(reference.item(), rel=1e-5)
    torch.testing.assert_close(
        lean_e.grad, reference_e.grad.float(), rtol=1e-4, atol=1e-5)
    # Other columns give another value: the columns are really used.
    other = summed_asge_loss(lean_e, target, (columns + 1) % 40)
    assert other.item() != pytest.approx(lean.item(), rel=1e-3)


def test_sampled_loss_is_unbiased():
    # The mean over every subset of 3 of 7 labels is the exact loss and
    # gradient.
    embeddings, adjacency = mixed_case()
    target = ASGETarget.from_adjacency(adjacency, 0.3, 'cpu')
    e = torch.tensor(embeddings, dtype=torch.float32, requires_grad=True)
    exact = summed_asge_loss(e, target)
    exact_grad, = torch.autograd.grad(exact, e)
    subsets = list(itertools.combinations(range(7), 3))
    estimates, total_grad = [], torch.zeros_like(e)
    for subset in subsets:
        estimate = summed_asge_loss(e, target, torch.tensor(subset))
        estimates.append(estimate.item())
        total_grad += torch.autograd.grad(estimate, e)[0]
    assert np.std(estimates) > 0.01 * exact.item()  # really sampled
    total = sum(estimates)
    assert total / len(subsets) == pytest.approx(exact.item(), rel=1e-5)
    torch.testing.assert_close(
        total_grad / len(subsets), exact_grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('final', ['softmax', 'relu'])
def test_net_equals_layers_applied_to_identity(final):
    net = ASGENet(6, embed_dim=5, hidden_dims=(4, 3), final_activation=final)
    net.reset_parameters(torch.Generator().manual_seed(0))
    assert len(net.layers) == 3
    for linear, norm, act in net.layers:
        assert isinstance(linear, nn.Linear)
        assert isinstance(norm, nn.BatchNorm1d)
    assert [type(layer[2]) for layer in net.layers] == [
        nn.ReLU, nn.ReLU, nn.Softmax if final == 'softmax' else nn.ReLU
    ]
    explicit = nn.Sequential(*[m for layer in net.layers for m in layer])
    out = net()
    assert out.shape == (6, 5)
    assert (out >= 0).all()
    torch.testing.assert_close(out, explicit(torch.eye(6)))
    if final == 'softmax':
        torch.testing.assert_close(out.sum(dim=1), torch.ones(6))


def test_softmax_net_starts_nearly_orthogonal():
    # Final BatchNorm scale 2: cosines of exp(2 z) for independent normal z
    # tend to exp(-4) = 0.018 (0.08 with 256 units); the ReLU network
    # starts at 1 / pi.
    def mean_cosine(final):
        net = ASGENet(400, final_activation=final)
        net.reset_parameters(torch.Generator().manual_seed(0))
        units = torch.nn.functional.normalize(net().detach(), dim=1)
        cosine = units @ units.t()
        return (cosine.sum() - cosine.diagonal().sum()).item() / 400 / 399

    assert mean_cosine('softmax') < 0.1
    assert mean_cosine('relu') == pytest.approx(1 / math.pi, abs=0.02)


def test_net_init_uses_the_generator():
    a, b = ASGENet(5, 4, (3, ), ), ASGENet(5, 4, (3, ))
    torch.manual_seed(1)
    a.reset_parameters(torch.Generator().manual_seed(7))
    torch.manual_seed(2)
    b.reset_parameters(torch.Generator().manual_seed(7))
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=0, atol=0)
    with pytest.raises(ValueError, match='at least 2'):
        ASGENet(1)
    with pytest.raises(ValueError, match='final_activation'):
        ASGENet(3, final_activation='tanh')


def known_graph(n=24, dim=6, seed=0):
    """A = cosines of random non-negative vectors: exactly representable."""
    vectors = np.random.default_rng(seed).random((n, dim))
    units = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return units @ units.T


def small_fit(adjacency, **kwargs):
    options = dict(
        embed_dim=32, hidden_dims=(32, 32), progress=False, max_iters=300)
    options.update(kwargs)
    return fit_asge(adjacency, **options)


def test_fit_recovers_a_representable_graph():
    adjacency = known_graph()
    result = small_fit(adjacency)
    assert isinstance(result, ASGEResult)
    # Untrained embeddings score about 0.25 here and zero embeddings
    # mean(A^2) = 0.63.
    assert result.history[0] > 0.1
    assert result.loss < 1e-3
    # The reported loss is the reference loss of the returned embeddings.
    assert result.loss == pytest.approx(
        asge_loss(
            torch.tensor(result.embeddings, dtype=torch.float64),
            torch.tensor(adjacency),
            reduction='mean').item(),
        rel=1e-9)


def test_fit_returns_the_best_step():
    # Early in fitting every step changes the embeddings a lot: the result
    # must be the embeddings whose loss was recorded, not later ones.
    result = small_fit(known_graph(), max_iters=10)
    assert result.loss == pytest.approx(min(result.history), rel=1e-5)


def test_fit_output_types():
    adjacency = known_graph(n=10)
    result = small_fit(adjacency, embed_dim=12, max_iters=7, patience=100)
    assert result.embeddings.shape == (10, 12)
    assert result.embeddings.dtype == np.float32
    assert result.num_iters == 7 == len(result.history)
    assert not result.converged
    assert isinstance(result.loss, float) and math.isfinite(result.loss)


@pytest.mark.parametrize('relaxed', [False, True])
def test_fit_is_deterministic_per_seed(relaxed):
    adjacency = known_graph(n=12)
    # Relaxed with 5 of 12 labels sampled per step: the samples follow the
    # seed too.
    options = dict(max_iters=20, alpha=0.5 if relaxed else None,
                   num_sampled=5)
    torch.manual_seed(123)
    first = small_fit(adjacency, seed=3, **options)
    torch.manual_seed(456)
    second = small_fit(adjacency, seed=3, **options)
    other = small_fit(adjacency, seed=4, **options)
    np.testing.assert_array_equal(first.embeddings, second.embeddings)
    assert first.history == second.history
    assert not np.allclose(first.embeddings, other.embeddings)


def test_fit_samples_columns_per_step(monkeypatch):
    seen = []

    def spy(embeddings, target, columns=None):
        seen.append(None if columns is None else columns.tolist())
        return summed_asge_loss(embeddings, target, columns)

    monkeypatch.setattr(asge_module, 'summed_asge_loss', spy)
    adjacency = known_graph(n=12)
    small_fit(adjacency, alpha=0.5, num_sampled=5, max_iters=3)
    assert len(seen) == 3 and all(len(set(c)) == 5 for c in seen)
    assert seen[0] != seen[1]
    seen.clear()
    small_fit(adjacency, alpha=0.5, num_sampled=12, max_iters=2)
    small_fit(adjacency, num_sampled=5, max_iters=2)  # unrelaxed: exact
    assert seen == [None] * 4


def test_fit_stops_when_the_loss_stops_improving():
    adjacency = known_graph(n=12)
    result = small_fit(adjacency, max_iters=500, patience=5, tol=0.5)
    assert result.converged
    assert result.num_iters < 500
    # Stopped after 5 steps that each failed to halve the reference loss.
    history = result.history
    reference = min(history[:-5])
    assert all(loss >= reference * 0.5 for loss in history[-5:])


@pytest.mark.parametrize('embed_dim, alpha, expected', [
    (12, 'auto', None),  # N <= embed_dim: the paper's image setting
    (11, 'auto', 0.1),  # more labels than dimensions: relaxed
    (11, None, None),
    (12, 0.3, 0.3),
])
def test_fit_resolves_auto_alpha(embed_dim, alpha, expected):
    result = small_fit(
        known_graph(n=12), embed_dim=embed_dim, alpha=alpha, max_iters=2)
    assert result.alpha == expected


def test_fit_relaxed_reports_relaxed_loss():
    adjacency = known_graph(n=16)
    adjacency[adjacency < 0.75] = 0.0
    np.fill_diagonal(adjacency, 1.0)
    result = small_fit(adjacency, alpha=0.1, max_iters=50)
    e = torch.tensor(result.embeddings, dtype=torch.float64)
    a = torch.tensor(adjacency)
    assert result.loss == pytest.approx(
        asge_loss(e, a, alpha=0.1, reduction='mean').item(), rel=1e-9)
    assert result.loss < result.history[0]


def test_fit_with_paper_sgd_and_progress_bar(capsys):
    adjacency = known_graph(n=8)
    result = small_fit(
        adjacency, optimizer='sgd', max_iters=3, progress=True)
    assert result.num_iters == 3
    assert 'ASGE' in capsys.readouterr().out


def test_fit_restores_thread_count():
    before = torch.get_num_threads()
    small_fit(known_graph(n=8), max_iters=2, num_threads=before + 1)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize('final', ['relu', 'softmax'])
def test_zero_embeddings_with_relu_only(final):
    # 200 mutually unrelated labels in 4 non-negative dimensions: with the
    # paper's final ReLU, switching labels off is the cheapest way to make
    # their cosines 0; softmax embeddings can never be zero.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        result = fit_asge(
            np.eye(200),
            embed_dim=4,
            hidden_dims=(8, 8),
            max_iters=100,
            lr=0.05,
            final_activation=final,
            progress=False)
    num_zero = int((np.abs(result.embeddings).sum(axis=1) == 0).sum())
    warned = [w for w in caught if 'ASGE label embeddings are zero' in str(
        w.message)]
    if final == 'relu':
        assert num_zero > 0
        assert f'{num_zero} of 200 ASGE' in str(warned[0].message)
    else:
        assert num_zero == 0 and not warned


def random_sparse_graph(num_labels=1000, num_images=20_000, seed=0):
    """Conditional graph of a random sparse label matrix with topics.

    Each image gets two labels of one of ``num_labels / 10`` topics and one
    label drawn from all: 2.9 labels per image on average, and a graph of
    mostly unrelated labels (a quarter of it non-zero, few large entries).
    """
    rng = np.random.default_rng(seed)
    topics = rng.integers(0, num_labels // 10, num_images)
    columns = np.stack([
        topics * 10 + rng.integers(0, 10, num_images),
        topics * 10 + rng.integers(0, 10, num_images),
        rng.integers(0, num_labels, num_images)
    ], axis=1).ravel()
    rows = np.repeat(np.arange(num_images), 3)
    labels = sp.csr_matrix((np.ones(rows.size), (rows, columns)),
                           shape=(num_images, num_labels))
    labels.data[:] = 1
    return build_label_graph(labels.astype(np.int8))


@pytest.mark.slow
def test_fit_does_not_collapse_on_a_large_sparse_graph():
    # With the paper's final ReLU and no relaxation (the former defaults)
    # 740 of these 1,000 embeddings come out zero (351 after 100 steps).
    # Default settings: softmax, and alpha='auto' is 0.1 here.
    adjacency = random_sparse_graph()
    assert (adjacency > 0).mean() < 0.5 and (adjacency >= 0.1).mean() < 0.05
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no zero-embedding warning
        result = fit_asge(adjacency, progress=False)
    assert result.alpha == 0.1
    norms = np.linalg.norm(result.embeddings, axis=1)
    assert (norms == 0).mean() < 0.01
    assert norms.min() > 0
    # The embeddings are not all alike either: most unrelated pairs are
    # far from parallel.
    units = result.embeddings / norms[:, None]
    cosine = units @ units.T
    assert np.median(cosine[adjacency == 0]) < 0.1
    assert result.loss < result.history[0]


@pytest.mark.parametrize('adjacency, kwargs, message', [
    (np.ones((3, 4)), {}, 'square'),
    (np.ones(3), {}, 'square'),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), {}, 'NaN'),
    (np.array([[1.0, -np.inf], [0.0, 1.0]]), {}, 'inf'),
    (np.eye(3), dict(optimizer='lbfgs'), 'optimizer'),
    (np.eye(3), dict(max_iters=0), 'max_iters'),
    (np.eye(3), dict(alpha=float('nan')), 'alpha'),
    (np.eye(3), dict(alpha='sometimes'), 'alpha'),
    (np.eye(3), dict(alpha=0.0), 'alpha'),
    (np.eye(1), {}, 'at least 2'),
    (np.full((3, 3), 7.0), {}, r'\[-1, 1\]'),
    (np.eye(3), dict(num_sampled=0), 'num_sampled'),
    (np.eye(3), dict(final_activation='tanh'), 'final_activation'),
])
def test_fit_rejects_bad_input(adjacency, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_asge(adjacency, progress=False, **kwargs)


def test_fit_refuses_a_diverging_loss():
    with pytest.raises(FloatingPointError, match='lower the learning rate'):
        small_fit(known_graph(n=8), optimizer='sgd', lr=1e30, max_iters=20)
