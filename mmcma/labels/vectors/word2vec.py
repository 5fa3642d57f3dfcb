"""Label vectors learned by skip-gram from the training label sets.

MS-CMA's embedding ablation (W2V-MS-CMA, "Cross-Modality Attention with
Semantic Graph Embedding for Multi-Label Classification", Table 3) replaces
ASGE with Word2vec: each image's label set is one sentence, and the window
is the longest sentence, so the order of the labels does not matter. Then
every ordered pair of distinct labels of one image is a (center, context)
pair (:func:`skipgram_pairs`), and skip-gram learns an input vector per
label whose softmax over the output vectors predicts its contexts
(:func:`skipgram_logits`, :func:`skipgram_loss`, :class:`SkipGram`).

The vocabulary is the N labels, so the softmax over it is computed exactly
(no negative sampling or hierarchical softmax, which approximate it for
large vocabularies). The label embeddings are the input vectors, as
Word2vec's. :func:`fit_word2vec` trains them with Adam on shuffled
mini-batches of pairs; on the CPU it is deterministic for a given seed.
As in Word2vec, labels that share contexts end close because training
starts from small vectors and stops after a few epochs: the loss's optimum
fixes only the products ``v_i . u_j``, not the geometry of the ``v_i``
(``tests/test_labels/test_word2vec.py`` checks the grouping at the
defaults on a planted example).
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...io import InputOptionError
from .fit_utils import progress_bar, torch_threads


def skipgram_pairs(labels: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Skip-gram pairs of label sets read as sentences, with the window
    as long as the longest sentence.

    Args:
        labels (np.ndarray): (S, N) binary label matrix; row s is the
            sentence of the labels of sample s.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``centers`` and ``contexts`` (P,)
        int64: every ordered pair (i, j), i != j, of labels present in the
        same row, once per row; sample by sample, in label order.
        ``P = sum_s L_s (L_s - 1)`` for rows with ``L_s`` labels.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f'expected an (S, N) label matrix, got shape '
                         f'{labels.shape}')
    rows, cols = np.nonzero(labels)  # row-major: grouped by sample
    lengths = np.bincount(rows, minlength=labels.shape[0])
    starts = np.cumsum(lengths) - lengths  # first entry of each row
    repeats = lengths[rows]  # each entry meets every entry of its row
    first = np.repeat(np.cumsum(repeats) - repeats, repeats)
    partner = (np.repeat(starts[rows], repeats) +
               np.arange(repeats.sum()) - first)
    entry = np.repeat(np.arange(len(cols)), repeats)
    keep = partner != entry
    return (np.repeat(cols, repeats)[keep].astype(np.int64),
            cols[partner[keep]].astype(np.int64))


def skipgram_logits(center_vectors: Tensor, output_vectors: Tensor) -> Tensor:
    """Scores of every label as the context of each center.

    Args:
        center_vectors (Tensor): (B, D) input vectors of the centers.
        output_vectors (Tensor): (N, D) output vectors of all labels.

    Returns:
        Tensor: (B, N) logits ``v_c . u_j``.
    """
    return center_vectors @ output_vectors.t()


def skipgram_loss(logits: Tensor, contexts: Tensor) -> Tensor:
    """Skip-gram's loss: ``-log softmax(logits)[context]``, averaged over
    the B pairs.

    Args:
        logits (Tensor): (B, N) from :func:`skipgram_logits`.
        contexts (Tensor): (B,) int64 context labels.

    Returns:
        Tensor: The scalar mean loss (``log N`` when all logits are equal).
    """
    return F.cross_entropy(logits, contexts)


class SkipGram(nn.Module):
    """Skip-gram over N labels: an input and an output vector per label.

    Args:
        num_labels (int): N.
        embed_dim (int): D.
    """

    def __init__(self, num_labels: int, embed_dim: int):
        super().__init__()
        self.input_vectors = nn.Parameter(torch.empty(num_labels, embed_dim))
        self.output_vectors = nn.Parameter(torch.empty(num_labels, embed_dim))
        self.reset_parameters()

    def reset_parameters(self,
                         generator: Optional[torch.Generator] = None) -> None:
        """Word2vec's start: input vectors uniform in ``+-0.5 / D``, output
        vectors zero (so the first loss is ``log N``)."""
        bound = 0.5 / self.input_vectors.size(1)
        with torch.no_grad():
            self.input_vectors.uniform_(-bound, bound, generator=generator)
            self.output_vectors.zero_()

    def forward(self, centers: Tensor) -> Tensor:
        """(B,) int64 center labels -> (B, N) context logits."""
        return skipgram_logits(self.input_vectors[centers],
                               self.output_vectors)


@dataclass
class Word2VecResult:
    """Outcome of :func:`fit_word2vec`.

    Attributes:
        embeddings (np.ndarray): (N, D) float32 input vectors.
        loss (float): Their mean loss over all pairs.
        history (list[float]): Mean loss of every epoch's mini-batches,
            taken before each update.
    """

    embeddings: np.ndarray
    loss: float
    history: List[float]


def _check_options(embed_dim: int, epochs: int, batch_size: int,
                   lr: float) -> None:
    for name, value in (('embed_dim', embed_dim), ('epochs', epochs),
                        ('batch_size', batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputOptionError(
                f'word2vec option {name} must be an integer >= 1, got '
                f'{value!r}')
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise InputOptionError(
            f'word2vec option lr must be a finite number > 0, got {lr!r}')


def mean_pair_loss(model: SkipGram, centers: Tensor, contexts: Tensor,
                   batch_size: int) -> float:
    """Mean :func:`skipgram_loss` over all pairs, in batches."""
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(centers), batch_size):
            batch = slice(i, i + batch_size)
            total += float(skipgram_loss(
                model(centers[batch]), contexts[batch])) * len(
                    centers[batch])
    return total / len(centers)


def fit_word2vec(labels: np.ndarray,
                 embed_dim: int = 256,
                 epochs: int = 5,
                 batch_size: int = 1024,
                 lr: float = 0.01,
                 seed: int = 0,
                 num_threads: Optional[int] = None,
                 progress: bool = True) -> Word2VecResult:
    """Fit skip-gram label vectors to the label sets of ``labels``.

    Args:
        labels (np.ndarray): (S, N) binary label matrix of the training set.
        embed_dim (int): D. Defaults to 256.
        epochs (int): Passes over all pairs. Defaults to 5.
        batch_size (int): Pairs per Adam step. Defaults to 1024.
        lr (float): Adam's learning rate. Defaults to 0.01.
        seed (int): Seed of the local generator used for the initial
            vectors and the shuffling.
        num_threads (int, optional): PyTorch threads while fitting.
        progress (bool): Show a progress bar over the steps.

    Returns:
        Word2VecResult: (N, D) embeddings, final loss, loss per epoch.

    Raises:
        InputOptionError: An option out of range, or labels that never
            share an image (no pair to learn from).
    """
    _check_options(embed_dim, epochs, batch_size, lr)
    labels = np.asarray(labels)
    centers, contexts = (torch.from_numpy(a) for a in skipgram_pairs(labels))
    if not len(centers):
        raise InputOptionError(
            'word2vec label vectors need images with two or more labels: no '
            'image of the training set has more than one')
    generator = torch.Generator().manual_seed(seed)
    steps = math.ceil(len(centers) / batch_size)
    with torch_threads(num_threads):
        model = SkipGram(labels.shape[1], embed_dim)
        model.reset_parameters(generator)
        optim = torch.optim.Adam(model.parameters(), lr=lr)
        history = []
        with progress_bar('word2vec', progress) as bar:
            task = bar.add_task('fit', total=epochs * steps, loss=math.nan)
            for _ in range(epochs):
                order = torch.randperm(len(centers), generator=generator)
                total = 0.0
                for step in range(steps):
                    batch = order[step * batch_size:(step + 1) * batch_size]
                    loss = skipgram_loss(model(centers[batch]),
                                         contexts[batch])
                    optim.zero_grad(set_to_none=True)
                    loss.backward()
                    optim.step()
                    total += loss.item() * len(batch)
                    bar.update(task, advance=1, loss=loss.item())
                history.append(total / len(centers))
        loss = mean_pair_loss(model, centers, contexts, batch_size)
    return Word2VecResult(
        embeddings=model.input_vectors.detach().numpy().astype(np.float32),
        loss=loss,
        history=history)
