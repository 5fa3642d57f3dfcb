"""Attention scores of CMA from cosines, eq. 7 and an alternative.

:class:`~mmcma.models.heads.cma_head.CMABranch` normalises these scores over
positions (eq. 8). The paper's ReLU of the cosine (``score='relu'``) leaves a
label without attention when every cosine is <= 0; ``score='softmax'`` gives
every valid position a positive weight, and its learnable temperature sets
how peaked the attention is (``docs/benchmarks_heads_real.md``).
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: How cosine attention turns cosines into scores (:class:`CosineAttention`).
COSINE_SCORES = ('relu', 'softmax')


def cosine_similarity(projected: Tensor,
                      embeddings: Tensor,
                      eps: float = 1e-8) -> Tensor:
    """``cos(I_s^i, e_k)`` for every label k and position i.

    Args:
        projected (Tensor): Projected features I_s, shape (B, D, M).
        embeddings (Tensor): Label embeddings E, shape (N, D).
        eps (float): Norm floor; zero vectors get cosine 0.

    Returns:
        Tensor: Cosines of shape (B, N, M), in [-1, 1].
    """
    projected = F.normalize(projected, dim=1, eps=eps)
    embeddings = F.normalize(embeddings, dim=1, eps=eps)
    return torch.matmul(embeddings, projected)


def cosine_attention_scores(projected: Tensor,
                            embeddings: Tensor,
                            eps: float = 1e-8) -> Tensor:
    """Unnormalised attention ``z = ReLU(cos(I_s^i, e_k))`` (eq. 7): the
    non-negative part of :func:`cosine_similarity` (same arguments), shape
    (B, N, M)."""
    return torch.relu(cosine_similarity(projected, embeddings, eps))


#: Smallest softmax temperature: with cosines in [-1, 1] every score
#: ``exp((cos - 1) / tau)`` is then at least exp(-80), a normal float32, so
#: no row of valid positions can be all zero.
MIN_TEMPERATURE = 0.025


def softmax_attention_scores(cosine: Tensor, temperature: Tensor) -> Tensor:
    """Scores ``z = exp((cos - 1) / tau)``; eq. 8 makes them a softmax.

    Normalising over positions (:func:`normalize_attention`) gives
    ``a_k^i = exp(cos_k^i / tau) / sum_j exp(cos_k^j / tau)`` over the valid
    positions: the shift by the largest possible cosine (1) cancels and keeps
    every score in (0, 1], so nothing overflows.

    Args:
        cosine (Tensor): Cosines (B, N, M), in [-1, 1].
        temperature (Tensor): Scalar tau >= :data:`MIN_TEMPERATURE`.

    Returns:
        Tensor: Positive scores of shape (B, N, M).
    """
    return torch.exp((cosine - 1) / temperature)



class CosineAttention(nn.Module):
    """Scores from the cosine between I_s and the label embeddings.

    Args:
        score (str): ``'relu'``: ``ReLU(cos)`` (eq. 7, the paper).
            ``'softmax'``: ``exp(cos / tau)`` normalised over positions, with
            a learnable temperature tau (see :func:`softmax_attention_scores`):
            never an all-zero row, and tau sets how peaked the attention is.
        temperature (float): Initial tau of ``'softmax'``, at least
            :data:`MIN_TEMPERATURE`; it is learnt as ``log tau``.
    """

    def __init__(self, score: str = 'relu', temperature: float = 0.1):
        super().__init__()
        if score not in COSINE_SCORES:
            raise ValueError(f'score must be one of {COSINE_SCORES}, got '
                             f'{score!r}.')
        self.score = score
        if score == 'softmax':
            if not temperature >= MIN_TEMPERATURE:
                raise ValueError(f'temperature must be >= {MIN_TEMPERATURE}'
                                 f', got {temperature}.')
            self.log_temperature = nn.Parameter(
                torch.tensor(math.log(temperature)))

    @property
    def temperature(self) -> Tensor:
        """Current tau (``'softmax'`` only), floored at MIN_TEMPERATURE."""
        return self.log_temperature.exp().clamp_min(MIN_TEMPERATURE)

    def forward(self, visual: Tensor, projected: Tensor,
                embeddings: Optional[Tensor]) -> Tensor:
        """Scores (B, N, M) from ``projected`` (B, D, M) and E (N, D)."""
        if self.score == 'relu':
            return cosine_attention_scores(projected, embeddings)
        return softmax_attention_scores(
            cosine_similarity(projected, embeddings), self.temperature)

    def extra_repr(self) -> str:
        return f'score={self.score!r}'
