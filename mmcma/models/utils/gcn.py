"""Graph convolutions over a label graph, shared by ML-GCN and KSSNet.

Plain tensor functions, checked against slow references in
``tests/test_mlgcn_head.py`` and ``tests/test_kssnet.py``:

- :func:`mlgcn_adjacency`: ML-GCN's released normalisation ``gen_adj``;
  :func:`normalize_adjacency` picks it or the graph as given;
- :func:`gcn_layers`: ``H_{l+1} = A_hat H_l W_l`` layer by layer, every
  layer's output (KSSNet injects the hidden ones into the CNN);
  :func:`gcn_propagate`: the last one (ML-GCN's classifiers);
- :func:`gcn_weights`: the weights ``W_l`` of a stack, ML-GCN's init;
- :func:`global_max_pool`, :func:`global_avg_pool` (:data:`POOLINGS`): the
  image feature the label classifiers score.
"""
import math
from typing import Callable, Dict, List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .features import MaskedFeature

#: How a GCN normalises its graph: ML-GCN's ``gen_adj``
#: (:func:`mlgcn_adjacency`), or not at all (a graph that is already
#: normalised, e.g. KSSNet's final KS graph, or ML-GCN's paper variant whose
#: rows sum to 1).
NORMALIZATIONS = ('released', 'none')


def mlgcn_adjacency(graph: Tensor) -> Tensor:
    """ML-GCN's normalised adjacency ``D^-1/2 A^T D^-1/2`` (``gen_adj``).

    ``D = diag(sum_j A_ij)``: the row sums of ``A``, applied on both sides
    of the *transposed* graph, as the released code does. A row summing to
    0 (possible only for a graph without self-loops) gets 0 instead of
    ``inf``: that label receives nothing.

    Args:
        graph (Tensor): ``A``, (N, N), non-negative.

    Returns:
        Tensor: ``A_hat``, (N, N); ``A_hat_ij = A_ji / sqrt(d_i d_j)``.
    """
    degree = graph.sum(dim=1)
    inv_sqrt = torch.where(degree > 0, degree.clamp_min(1e-30).rsqrt(),
                           torch.zeros_like(degree))
    return inv_sqrt[:, None] * graph.t() * inv_sqrt[None, :]


def normalize_adjacency(graph: Tensor, normalize: str) -> Tensor:
    """The graph a GCN propagates over, (N, N).

    Args:
        graph (Tensor): The label graph (N, N).
        normalize (str): One of :data:`NORMALIZATIONS`.
    """
    if normalize == 'released':
        return mlgcn_adjacency(graph)
    if normalize == 'none':
        return graph
    raise ValueError(f'normalize must be one of {NORMALIZATIONS}, got '
                     f'{normalize!r}')


def gcn_layers(x: Tensor,
               adjacency: Tensor,
               weights: Sequence[Tensor],
               negative_slope: float = 0.2) -> List[Tensor]:
    """Stacked graph convolutions ``H_{l+1} = A_hat H_l W_l``, every output.

    LeakyReLU(``negative_slope``) follows every layer but the last (the
    last gives classifiers, which take either sign, as in ML-GCN).

    Args:
        x (Tensor): Node features ``H_0``, (N, D_0).
        adjacency (Tensor): ``A_hat``, (N, N).
        weights (Sequence[Tensor]): ``W_l``, (D_l, D_{l+1}) each.
        negative_slope (float): LeakyReLU slope. Defaults to 0.2.

    Returns:
        list[Tensor]: ``H_1 .. H_L``, (N, D_l) each.
    """
    outputs = []
    for i, weight in enumerate(weights):
        x = adjacency @ (x @ weight)
        if i < len(weights) - 1:
            x = F.leaky_relu(x, negative_slope)
        outputs.append(x)
    return outputs


def gcn_propagate(x: Tensor,
                  adjacency: Tensor,
                  weights: Sequence[Tensor],
                  negative_slope: float = 0.2) -> Tensor:
    """The last output ``H_L`` (N, D_L) of :func:`gcn_layers`."""
    return gcn_layers(x, adjacency, weights, negative_slope)[-1]


def gcn_weights(sizes: Sequence[int]) -> nn.ParameterList:
    """Weights ``W_l`` (D_l, D_{l+1}) of a GCN with node sizes ``sizes``.

    ML-GCN's init (``GraphConvolution``): ``W ~ U(-1/sqrt(out),
    1/sqrt(out))``.

    Args:
        sizes (Sequence[int]): ``D_0, D_1, .., D_L``, all positive.

    Raises:
        ValueError: Fewer than two sizes, or one that is not positive.
    """
    if len(sizes) < 2 or any(int(s) <= 0 for s in sizes):
        raise ValueError('a GCN needs an input and at least one layer, all '
                         f'sizes positive; got sizes {list(sizes)}')
    weights = nn.ParameterList(
        nn.Parameter(torch.empty(int(d_in), int(d_out)))
        for d_in, d_out in zip(sizes[:-1], sizes[1:]))
    for weight in weights:
        bound = 1.0 / math.sqrt(weight.size(1))
        nn.init.uniform_(weight, -bound, bound)
    return weights


def global_max_pool(feature: MaskedFeature) -> Tensor:
    """Max over positions: (B, C, *positions) -> (B, C); (B, C) unchanged.

    With a mask only valid positions count; a sample without any gets 0.
    """
    feat, mask = feature
    if feat.dim() == 2:
        return feat
    if mask is not None:
        mask = mask.bool().unsqueeze(1)
        feat = feat.masked_fill(~mask, float('-inf'))
    pooled = feat.flatten(2).amax(dim=2)
    if mask is not None:
        pooled = pooled.masked_fill(~mask.flatten(2).any(dim=2), 0)
    return pooled


def global_avg_pool(feature: MaskedFeature) -> Tensor:
    """Mean over positions: (B, C, *positions) -> (B, C); (B, C) unchanged.

    With a mask only valid positions count; a sample without any gets 0.
    """
    feat, mask = feature
    if feat.dim() == 2:
        return feat
    if mask is None:
        return feat.flatten(2).mean(dim=2)
    mask = mask.bool().flatten(1).unsqueeze(1)  # (B, 1, M)
    total = feat.flatten(2).masked_fill(~mask, 0).sum(dim=2)
    return total / mask.sum(dim=2).clamp_min(1).to(feat.dtype)


#: Global poolings of an image (or sequence) feature, by name.
POOLINGS: Dict[str, Callable[[MaskedFeature], Tensor]] = {
    'max': global_max_pool,
    'avg': global_avg_pool,
}
