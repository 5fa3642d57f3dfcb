"""KSSNet's lateral connection (LC, eq. 7): label embeddings into a CNN map.

``y = g(R_{N x H x W}(R_{HW x C}(x) . sigma(E^T))) + x``: every position's
feature (C) is correlated with the activated hidden embedding of each label
(N x C), giving N maps; a 1 x 1 convolution ``g`` (N -> C) maps them back to
C channels, added to ``x``. Positions never mix, so one function serves maps
(B, C, H, W), sequences (B, C, T) (the 1-D analogue for video, e.g. SNet's
temporal layers) and clips (B, C, T, H, W).
"""
from typing import Callable, Dict

import torch
from torch import Tensor, nn

#: The activation ``sigma`` of the embeddings in eq. 7. The paper sets tanh
#: on MS-COCO; its I3D figure marks a sigmoid.
ACTIVATIONS: Dict[str, Callable[[Tensor], Tensor]] = {
    'tanh': torch.tanh,
    'sigmoid': torch.sigmoid,
}


def label_correlation(x: Tensor,
                      embedding: Tensor,
                      activation: Callable[[Tensor], Tensor] = torch.tanh
                      ) -> Tensor:
    """``R_{N x HW}(R_{HW x C}(x) . sigma(E^T))``: one map per label.

    Args:
        x (Tensor): Features (B, C, *positions).
        embedding (Tensor): Hidden label embeddings E (N, C).
        activation (callable): ``sigma``. Defaults to tanh.

    Returns:
        Tensor: (B, N, *positions); entry (b, n, p) is
        ``sum_c x[b, c, p] * sigma(E[n, c])``.
    """
    return torch.einsum('bc...,nc->bn...', x, activation(embedding))


def lateral_connection(x: Tensor,
                       embedding: Tensor,
                       projection: Callable[[Tensor], Tensor],
                       activation: Callable[[Tensor], Tensor] = torch.tanh
                       ) -> Tensor:
    """Eq. 7: ``y = g(label_correlation(x, E)) + x``.

    Args:
        x (Tensor): Features (B, C, *positions).
        embedding (Tensor): Hidden label embeddings E (N, C).
        projection (callable): ``g``, (B, N, *positions) ->
            (B, C, *positions), acting on each position alone.
        activation (callable): ``sigma``. Defaults to tanh.

    Returns:
        Tensor: ``y``, the shape of ``x``.
    """
    return projection(label_correlation(x, embedding, activation)) + x


#: A lateral connection with at least this many labels runs eq. 7 as
#: :func:`composed_lateral_connection`; below it, as written
#: (:func:`lateral_connection`), so the papers' and the demo's numbers stay.
COMPOSED_MIN_LABELS = 1024


def composed_lateral_connection(x: Tensor,
                                embedding: Tensor,
                                weight: Tensor,
                                bias: Tensor,
                                activation: Callable[[Tensor], Tensor] = (
                                    torch.tanh)) -> Tensor:
    """Eq. 7 with a linear ``g`` composed first: ``y = (G sigma(E)) x + b +
    x``.

    ``g`` (weight G (C, N), bias b) and the correlation with ``sigma(E)``
    are both linear in ``x`` at each position, so they compose into one
    (C, C) matrix: equal to :func:`lateral_connection` with ``g`` a 1 x 1
    convolution, up to float rounding, without the N maps (B, N,
    *positions).

    Args:
        x (Tensor): Features (B, C, *positions).
        embedding (Tensor): Hidden label embeddings E (N, C).
        weight (Tensor): G, (C, N).
        bias (Tensor): b, (C,).
        activation (callable): ``sigma``. Defaults to tanh.

    Returns:
        Tensor: ``y``, the shape of ``x``.
    """
    mixing = weight @ activation(embedding)  # (C, C)
    flat = x.flatten(2)
    out = torch.matmul(mixing, flat) + bias[:, None]
    return out.unflatten(2, x.shape[2:]) + x


class LateralConnection(nn.Module):
    """One LC: the 1 x 1 convolution ``g`` (N -> C) and the activation.

    Args:
        num_classes (int): Labels N.
        channels (int): Channels C of the CNN map (and of E).
        activation (str): One of :data:`ACTIVATIONS`. Defaults to
            ``'tanh'``.
        zero_init (bool): Start ``g`` at zero, so that the LC starts as the
            identity and a pretrained backbone's features are untouched at
            the first step (the paper does not say how ``g`` starts).
            Defaults to True; False keeps torch's default init.
    """

    def __init__(self,
                 num_classes: int,
                 channels: int,
                 activation: str = 'tanh',
                 zero_init: bool = True):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f'lateral activation must be one of '
                             f'{sorted(ACTIVATIONS)}, got {activation!r}')
        self.activation = activation
        self.proj = nn.Conv2d(num_classes, channels, kernel_size=1)
        if zero_init:
            nn.init.zeros_(self.proj.weight)
            nn.init.zeros_(self.proj.bias)

    def project(self, correlation: Tensor) -> Tensor:
        """``g`` on (B, N, *positions): the positions laid out as an
        (M x 1) map for :class:`torch.nn.Conv2d`, whatever their number of
        dimensions (torch has no convolution for any rank)."""
        positions = correlation.shape[2:]
        out = self.proj(correlation.flatten(2).unsqueeze(-1))
        return out.squeeze(-1).unflatten(2, positions)

    def forward(self, x: Tensor, embedding: Tensor) -> Tensor:
        """``y`` (B, C, *positions) of ``x`` (B, C, *positions), E (N, C);
        from :data:`COMPOSED_MIN_LABELS` labels on, through
        :func:`composed_lateral_connection`."""
        activation = ACTIVATIONS[self.activation]
        if self.proj.in_channels >= COMPOSED_MIN_LABELS:
            return composed_lateral_connection(
                x, embedding, self.proj.weight[:, :, 0, 0], self.proj.bias,
                activation)
        return lateral_connection(x, embedding, self.project, activation)

    def extra_repr(self) -> str:
        return f'activation={self.activation!r}'
