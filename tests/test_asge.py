import math
import warnings

import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS
from torch import nn

from mmcma.embedding import ASGENet, ASGEResult, fit_asge
from mmcma.embedding import asge as asge_module
from mmcma.models.losses.asge_loss import ASGELoss, asge_loss


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


def test_asge_loss_module_is_registered():
    embeddings, adjacency = mixed_case()
    e, a = torch.tensor(embeddings), torch.tensor(adjacency)
    module = MODELS.build(dict(type='ASGELoss', alpha=0.3, loss_weight=2.0))
    assert isinstance(module, ASGELoss)
    assert module(e, a).item() == pytest.approx(
        2.0 * loop_loss(embeddings, adjacency, 0.3) / adjacency.size)
    with pytest.raises(ValueError, match='reduction'):
        ASGELoss(reduction='max')


# The fast loss used by fit_asge against the reference asge_loss.
@pytest.mark.parametrize('alpha', [None, 0.3])
@pytest.mark.parametrize('symmetric', [True, False])
@pytest.mark.parametrize('layout', ['dense', 'sparse-or-blocked'])
def test_fast_loss_matches_reference(monkeypatch, alpha, symmetric, layout):
    rng = np.random.default_rng(1)
    n = 40
    embeddings = rng.normal(size=(n, 6))
    adjacency = rng.random((n, n))
    adjacency[adjacency < 0.8] = 0.0  # 20% non-zero
    if symmetric:
        adjacency = (adjacency + adjacency.T) / 2
    np.fill_diagonal(adjacency, 1.0)
    if layout != 'dense':
        # Small blocks for the relaxed form, CSR for the unrelaxed one.
        monkeypatch.setattr(asge_module, '_BLOCK_ENTRIES', 3 * n)
        monkeypatch.setattr(asge_module, '_SPARSE_MIN_LABELS', 2)
        monkeypatch.setattr(asge_module, '_SPARSE_MAX_DENSITY', 0.5)
    target = asge_module._Target.from_adjacency(adjacency, alpha
                                                is not None, 'cpu')
    if layout != 'dense' and alpha is None:
        assert target.symmetric.layout == torch.sparse_csr

    reference_e = torch.tensor(embeddings, requires_grad=True)
    reference = asge_loss(reference_e, torch.tensor(adjacency), alpha)
    reference.backward()
    fast_e = torch.tensor(embeddings, dtype=torch.float32, requires_grad=True)
    fast = asge_module._summed_loss(fast_e, target, alpha)
    fast.backward()

    assert fast.item() == pytest.approx(reference.item(), rel=1e-5)
    torch.testing.assert_close(
        fast_e.grad, reference_e.grad.float(), rtol=1e-4, atol=1e-5)
    evaluated = asge_module._evaluate_loss(fast_e, adjacency, alpha)
    assert evaluated == pytest.approx(
        loop_loss(fast_e.detach().double().numpy(), adjacency, alpha),
        rel=1e-10)


def test_net_equals_layers_applied_to_identity():
    net = ASGENet(6, embed_dim=5, hidden_dims=(4, 3))
    net.reset_parameters(torch.Generator().manual_seed(0))
    assert len(net.layers) == 3
    for linear, norm, act in net.layers:
        assert isinstance(linear, nn.Linear)
        assert isinstance(norm, nn.BatchNorm1d)
        assert isinstance(act, nn.ReLU)
    explicit = nn.Sequential(*[m for layer in net.layers for m in layer])
    out = net()
    assert out.shape == (6, 5)
    assert (out >= 0).all()
    torch.testing.assert_close(out, explicit(torch.eye(6)))


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


def test_fit_is_deterministic_per_seed():
    adjacency = known_graph(n=12)
    torch.manual_seed(123)
    first = small_fit(adjacency, max_iters=20, seed=3)
    torch.manual_seed(456)
    second = small_fit(adjacency, max_iters=20, seed=3)
    other = small_fit(adjacency, max_iters=20, seed=4)
    np.testing.assert_array_equal(first.embeddings, second.embeddings)
    assert first.history == second.history
    assert not np.allclose(first.embeddings, other.embeddings)


def test_fit_stops_when_the_loss_stops_improving():
    adjacency = known_graph(n=12)
    result = small_fit(adjacency, max_iters=500, patience=5, tol=0.5)
    assert result.converged
    assert result.num_iters < 500
    # Stopped after 5 steps that each failed to halve the reference loss.
    history = result.history
    reference = min(history[:-5])
    assert all(loss >= reference * 0.5 for loss in history[-5:])


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


def test_fit_warns_about_zero_embeddings():
    # 200 mutually unrelated labels in 4 non-negative dimensions: switching
    # labels off is the cheapest way to make their cosines 0.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        result = fit_asge(
            np.eye(200),
            embed_dim=4,
            hidden_dims=(8, 8),
            max_iters=100,
            lr=0.05,
            progress=False)
    num_zero = int((np.abs(result.embeddings).sum(axis=1) == 0).sum())
    assert num_zero > 0
    assert any(f'{num_zero} of 200 ASGE label embeddings are zero' in str(
        w.message) for w in caught)


@pytest.mark.parametrize('adjacency, kwargs, message', [
    (np.ones((3, 4)), {}, 'square'),
    (np.ones(3), {}, 'square'),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), {}, 'NaN'),
    (np.eye(3), dict(optimizer='lbfgs'), 'optimizer'),
    (np.eye(3), dict(max_iters=0), 'max_iters'),
    (np.eye(3), dict(alpha=float('nan')), 'alpha'),
    (np.eye(1), {}, 'at least 2'),
])
def test_fit_rejects_bad_input(adjacency, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_asge(adjacency, progress=False, **kwargs)
