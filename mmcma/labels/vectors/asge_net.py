"""ASGENet: the label-embedding network of ASGE (MS-CMA, section 3.1).

Its fit lives in :mod:`mmcma.labels.vectors.asge`.
"""
import math
from functools import partial
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from ...io import InputOptionError

# Final activations of ASGENet: softmax over the units (default) or ReLU.
FINAL_ACTIVATIONS = {'softmax': partial(nn.Softmax, dim=1), 'relu': nn.ReLU}
# Initial scale of the BatchNorm before the softmax: random labels start
# nearly orthogonal (see ASGENet.reset_parameters).
SOFTMAX_INIT_SCALE = 2.0


class ASGENet(nn.Module):
    """The embedding network ``Phi`` of ASGE.

    ``[Linear -> BatchNorm1d -> ReLU]`` repeated ``len(hidden_dims)`` times,
    then ``[Linear -> BatchNorm1d -> final activation]``, applied to the
    ``(N, N)`` identity matrix: all labels form one batch, so BatchNorm
    always uses the statistics of the whole label set. A Linear layer
    applied to one-hot rows returns its weight columns, so the first layer
    is computed as ``weight.T + bias`` without building the identity matrix
    (same values, ``O(N * hidden)`` memory instead of ``O(N ** 2)``).
    Embeddings are meant to be computed in training mode (batch statistics
    of the whole label set), as during fitting; in eval mode BatchNorm would
    use its running averages instead.

    The final activation is a softmax over the units (default: never the
    zero vector, see :func:`fit_asge`) or the paper's ReLU.

    Args:
        num_labels (int): Number of labels ``N`` (at least 2: BatchNorm needs
            more than one row).
        embed_dim (int): Output size ``Ce``. Defaults to 256 (paper).
        hidden_dims (Sequence[int]): Sizes of the hidden layers.
            Defaults to ``(256, 256)`` (paper: three layers of 256).
        final_activation (str): ``'softmax'`` or ``'relu'``. Defaults to
            ``'softmax'``.
    """

    def __init__(self,
                 num_labels: int,
                 embed_dim: int = 256,
                 hidden_dims: Sequence[int] = (256, 256),
                 final_activation: str = 'softmax'):
        super().__init__()
        if num_labels < 2:
            raise ValueError(f'ASGE needs at least 2 labels, got {num_labels}')
        dims = (num_labels, *hidden_dims, embed_dim)
        if min(dims[1:]) < 1:
            raise InputOptionError(
                f'layer sizes must be positive, got {dims[1:]}')
        if final_activation not in FINAL_ACTIVATIONS:
            raise InputOptionError('final_activation must be one of '
                                   f'{tuple(FINAL_ACTIVATIONS)}, got '
                                   f'{final_activation!r}')
        self.num_labels = num_labels
        self.final_activation = final_activation
        activations = [nn.ReLU() for _ in hidden_dims]
        activations.append(FINAL_ACTIVATIONS[final_activation]())
        self.layers = nn.ModuleList(
            nn.Sequential(
                nn.Linear(in_dim, out_dim), nn.BatchNorm1d(out_dim), act)
            for in_dim, out_dim, act in zip(dims[:-1], dims[1:], activations))

    def reset_parameters(self,
                         generator: Optional[torch.Generator] = None) -> None:
        """Re-initialise like PyTorch's defaults, drawing from ``generator``.

        Linear layers get PyTorch's default (Kaiming-uniform weights,
        uniform biases in ``+-1/sqrt(fan_in)``); BatchNorm gets weight 1 and
        bias 0, except the one before a softmax: weight
        :data:`SOFTMAX_INIT_SCALE`. For independent standard-normal ``z``,
        ``z'`` the cosine of ``exp(s z)`` and ``exp(s z')`` tends to
        ``exp(-s ** 2)`` with many units: with ``s = 2`` labels start nearly
        orthogonal (mean cosine below 0.1 with 256 units; ReLU:
        ``1 / pi``), as most pairs of a label graph are. A local
        generator makes the result independent of the global random state.

        Args:
            generator (torch.Generator, optional): Source of randomness.
        """
        for linear, norm, _ in self.layers:
            nn.init.kaiming_uniform_(
                linear.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(linear.in_features)
            nn.init.uniform_(linear.bias, -bound, bound, generator=generator)
            norm.reset_parameters()
        if self.final_activation == 'softmax':
            nn.init.constant_(self.layers[-1][1].weight, SOFTMAX_INIT_SCALE)

    def forward(self) -> Tensor:
        """Embed every label.

        Returns:
            Tensor: ``(N, embed_dim)`` embeddings, non-negative.
        """
        first_linear, first_norm, first_act = self.layers[0]
        x = first_act(first_norm(first_linear.weight.t() + first_linear.bias))
        for layer in self.layers[1:]:
            x = layer(x)
        return x
