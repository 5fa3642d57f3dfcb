"""Skip-gram label vectors from the training label sets (MS-CMA's
W2V-MS-CMA ablation): pairs, loss, fitting, the 'word2vec' source and its
place in the label-state cache key."""
import itertools
import math

import numpy as np
import pytest
import torch

from mmcma.io import InputOptionError
from mmcma.labels import compute_label_state
from mmcma.labels.state import label_state_key
from mmcma.labels.vectors import SkipGram, fit_word2vec, make_label_embedding
from mmcma.labels.vectors.word2vec import (skipgram_logits, skipgram_loss,
                                           skipgram_pairs)


def reference_pairs(labels):
    """Every ordered pair of distinct labels of each row, by loops."""
    pairs = []
    for row in np.asarray(labels):
        present = np.flatnonzero(row)
        pairs += list(itertools.permutations(present.tolist(), 2))
    return pairs


def planted_labels(repeats=30):
    """Labels 0-3 always together, 4-7 always together; never across.
    Some images hold only part of a group, so the sentence lengths vary."""
    rows = []
    for group in ([0, 1, 2, 3], [4, 5, 6, 7]):
        for subset in itertools.chain(
                itertools.combinations(group, 4),
                itertools.combinations(group, 3),
                itertools.combinations(group, 2)):
            row = np.zeros(8, np.uint8)
            row[list(subset)] = 1
            rows.append(row)
    return np.tile(np.stack(rows), (repeats, 1))


def cosine(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_pairs_are_every_ordered_pair_within_a_row():
    rng = np.random.default_rng(0)
    labels = (rng.random((50, 7)) < 0.35).astype(np.uint8)
    labels[3] = 0  # an empty row and a single-label row add nothing
    labels[4] = 0
    labels[4, 2] = 1
    centers, contexts = skipgram_pairs(labels)
    assert centers.dtype == contexts.dtype == np.int64
    assert list(zip(centers.tolist(), contexts.tolist())) == \
        reference_pairs(labels)
    lengths = labels.sum(1)
    assert len(centers) == int((lengths * (lengths - 1)).sum())
    # The label order in a row does not matter (window = longest sentence):
    # permuting the columns permutes the pairs' labels and nothing else.
    perm = rng.permutation(7)
    c2, x2 = skipgram_pairs(labels[:, perm])
    assert sorted(zip(perm[c2].tolist(), perm[x2].tolist())) == sorted(
        zip(centers.tolist(), contexts.tolist()))
    empty = skipgram_pairs(np.zeros((3, 4)))
    assert len(empty[0]) == len(empty[1]) == 0


def test_loss_is_the_softmax_cross_entropy_by_hand():
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(5, 3, generator=gen)
    outputs = torch.randn(6, 3, generator=gen)
    contexts = torch.tensor([0, 5, 2, 2, 1])
    logits = skipgram_logits(centers, outputs)
    expected = np.mean([
        -math.log(math.exp(float(centers[b] @ outputs[contexts[b]])) /
                  sum(math.exp(float(centers[b] @ outputs[j]))
                      for j in range(6)))
        for b in range(5)])
    assert float(skipgram_loss(logits, contexts)) == pytest.approx(
        expected, rel=1e-5)


def test_module_starts_at_log_n_and_seeds_its_init():
    model = SkipGram(6, 4)
    with torch.no_grad():
        first = skipgram_loss(model(torch.tensor([0, 3])), torch.tensor([1, 2]))
    assert float(first) == pytest.approx(math.log(6))
    a, b = SkipGram(6, 4), SkipGram(6, 4)
    a.reset_parameters(torch.Generator().manual_seed(1))
    b.reset_parameters(torch.Generator().manual_seed(1))
    torch.testing.assert_close(a.input_vectors, b.input_vectors)
    assert a.input_vectors.abs().max() <= 0.5 / 4


def test_fit_lowers_the_loss_and_groups_co_occurring_labels():
    labels = planted_labels()
    result = fit_word2vec(labels, embed_dim=16, epochs=5, batch_size=64,
                          seed=0, progress=False)
    assert result.embeddings.shape == (8, 16)
    assert result.embeddings.dtype == np.float32
    assert result.history[-1] < result.history[0]
    assert result.loss < 0.95 * math.log(8)  # below the uniform guess
    emb = result.embeddings
    within = [cosine(emb[i], emb[j]) for g in ([0, 1, 2, 3], [4, 5, 6, 7])
              for i, j in itertools.combinations(g, 2)]
    across = [cosine(emb[i], emb[j]) for i in range(4) for j in range(4, 8)]
    assert min(within) > max(across), (within, across)


def test_fit_is_deterministic_under_a_seed():
    labels = planted_labels(repeats=3)
    options = dict(embed_dim=8, epochs=2, batch_size=16, progress=False)
    a = fit_word2vec(labels, seed=3, **options)
    b = fit_word2vec(labels, seed=3, **options)
    c = fit_word2vec(labels, seed=4, **options)
    np.testing.assert_array_equal(a.embeddings, b.embeddings)
    assert a.history == b.history
    assert not np.array_equal(a.embeddings, c.embeddings)


@pytest.mark.parametrize('options, message', [
    (dict(epochs=0), 'epochs must be an integer >= 1'),
    (dict(batch_size=2.5), 'batch_size must be an integer >= 1'),
    (dict(lr=-1.0), 'lr must be a finite number > 0'),
    (dict(lr=float('nan')), 'lr must be a finite number > 0'),
])
def test_fit_options_are_checked(options, message):
    with pytest.raises(InputOptionError, match=message):
        fit_word2vec(planted_labels(1), progress=False, **options)


def test_labels_that_never_share_an_image_are_refused():
    with pytest.raises(InputOptionError, match='two or more labels'):
        fit_word2vec(np.eye(4, dtype=np.uint8), progress=False)


def test_source_takes_the_label_matrix_and_the_model_size():
    labels = planted_labels(repeats=2)
    classes = [f'c{i}' for i in range(8)]
    options = dict(type='word2vec', epochs=2, seed=0)
    vectors, loss = make_label_embedding(None, classes, 12, options,
                                         progress=False, labels=labels)
    direct = fit_word2vec(labels, embed_dim=12, epochs=2, seed=0,
                          progress=False)
    np.testing.assert_array_equal(vectors, direct.embeddings)
    assert loss == pytest.approx(direct.loss)
    # Options are checked by name, naming the source and the valid ones.
    with pytest.raises(InputOptionError, match="'window'.*valid options: "
                       'epochs, batch_size, lr, seed, num_threads'):
        make_label_embedding(None, classes, 12,
                             dict(type='word2vec', window=5), labels=labels)
    with pytest.raises(InputOptionError, match="unknown option 'embed_dim'"):
        make_label_embedding(None, classes, 12,
                             dict(type='word2vec', embed_dim=5),
                             labels=labels)
    with pytest.raises(ValueError, match='needs the training label matrix'):
        make_label_embedding(None, classes, 12, dict(type='word2vec'))


def test_label_state_fits_word2vec_and_keys_its_options():
    labels = planted_labels(repeats=2)
    classes = [f'c{i}' for i in range(8)]
    requirements = {'embedding': (8, 6)}
    embedding = dict(type='word2vec', epochs=1, seed=0)
    state = compute_label_state(labels, classes, requirements,
                                embedding=embedding, progress=False)
    assert state.embedding.shape == (8, 6)
    assert np.isfinite(state.embedding_loss)
    assert state.graph.size == 0  # word2vec needs no graph
    key = label_state_key(labels, classes, requirements, None, embedding)
    assert state.key == key
    others = [
        dict(embedding, seed=1),
        dict(embedding, epochs=2),
        dict(embedding, lr=0.02),
        dict(type='asge', seed=0),
    ]
    keys = {label_state_key(labels, classes, requirements, None, other)
            for other in others}
    assert key not in keys and len(keys) == len(others)
