"""Graph convolutions over a label graph, shared by ML-GCN and KSSNet.

Plain tensor functions, checked against slow references in
``tests/test_models/test_gcn.py``; :class:`~mmcma.models.utils.LabelGCN`
holds the weights:

- :func:`label_graph_adjacency`: the graph a GCN module propagates over,
  normalised as the module asks and only as far as the graph is not
  already (:func:`mmcma.labels.propagation_graph`);
- :func:`gcn_layers`: ``H_{l+1} = A_hat H_l W_l`` layer by layer, every
  layer's output (the last are the classifiers; KSSNet injects the hidden
  ones into the CNN); ``A_hat`` dense, or a sparse COO tensor
  (:func:`sparse_adjacency`) multiplied with ``torch.sparse.mm``;
- :func:`gcn_weights`: the weights ``W_l`` of a stack, ML-GCN's init;
- :func:`global_max_pool`, :func:`global_avg_pool` (:data:`POOLINGS`): the
  image feature the label classifiers score.
"""
import math
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...labels.adjacency import NORMALIZATIONS, propagation_graph
# A graph with fewer labels than SPARSE_MIN_LABELS stays dense under
# ``sparse=None`` (every demo and paper dataset: 12 to 1,000 labels).
from ...labels.square_arrays import (  # noqa: F401
    SPARSE_MAX_DENSITY, SPARSE_MIN_LABELS, sparse_by_rule)
from .features import MaskedFeature


def check_normalize(normalize: Optional[str], owner: str) -> None:
    """``normalize`` of a GCN module: None (the graph's own, else ML-GCN's
    ``'released'``) or one of :data:`~mmcma.labels.adjacency.NORMALIZATIONS`.
    """
    if normalize is not None and normalize not in NORMALIZATIONS:
        raise ValueError(f'{owner}: normalize must be None or one of '
                         f'{NORMALIZATIONS}, got {normalize!r}')


def label_graph_adjacency(module, normalize: Optional[str]) -> Tensor:
    """The (N, N) graph a GCN module (a ``LabelStateMixin`` declaring
    ``'graph'``) propagates over: its filled label graph, normalised as
    ``normalize`` asks, applying only what the graph does not carry."""
    return propagation_graph(module.label_state('graph'),
                             module.graph_normalization(), normalize)




def use_sparse(adjacency: Tensor, sparse: Optional[bool]) -> bool:
    """Whether a GCN propagates over ``adjacency`` (N, N) as a sparse tensor.

    Args:
        adjacency (Tensor): The dense graph.
        sparse (bool, optional): True or False decide; None: sparse when
            ``N >= SPARSE_MIN_LABELS`` and at most ``SPARSE_MAX_DENSITY``
            of the entries are non-zero.
    """
    if sparse is not None:
        return bool(sparse)
    if adjacency.is_sparse:
        return True
    return sparse_by_rule(adjacency.size(0),
                          int(torch.count_nonzero(adjacency)))


def sparse_adjacency(adjacency: Tensor) -> Tensor:
    """The dense (N, N) ``adjacency`` as a coalesced sparse COO tensor (its
    non-zero entries, exactly)."""
    return adjacency.to_sparse_coo().coalesce()


def _propagate(adjacency: Tensor, x: Tensor) -> Tensor:
    """``adjacency @ x``, sparse-aware."""
    if adjacency.is_sparse:
        return torch.sparse.mm(adjacency, x)
    return adjacency @ x


def gcn_layers(x: Tensor,
               adjacency: Tensor,
               weights: Sequence[Tensor],
               negative_slope: float = 0.2) -> List[Tensor]:
    """Stacked graph convolutions ``H_{l+1} = A_hat H_l W_l``, every output.

    LeakyReLU(``negative_slope``) follows every layer but the last (the
    last gives classifiers, which take either sign, as in ML-GCN).

    Args:
        x (Tensor): Node features ``H_0``, (N, D_0).
        adjacency (Tensor): ``A_hat``, (N, N), dense or sparse COO.
        weights (Sequence[Tensor]): ``W_l``, (D_l, D_{l+1}) each.
        negative_slope (float): LeakyReLU slope. Defaults to 0.2.

    Returns:
        list[Tensor]: ``H_1 .. H_L``, (N, D_l) each.
    """
    outputs = []
    for i, weight in enumerate(weights):
        x = _propagate(adjacency, x @ weight)
        if i < len(weights) - 1:
            x = F.leaky_relu(x, negative_slope)
        outputs.append(x)
    return outputs


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
