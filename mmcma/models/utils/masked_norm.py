"""BatchNorm whose batch statistics skip padded positions.

Features padded to a common size carry a boolean mask of valid positions.
Plain BatchNorm in training mode takes its batch statistics over every
position, so the padding (which depends on the other samples of the batch)
changes the outputs at valid positions and the running statistics. The layers
here take the statistics over the valid positions only; without a mask they
are the PyTorch layers they subclass, with the same parameters and buffers.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor, nn

from .masking import zero_padding


def _per_channel(stat: Tensor, ndim: int) -> Tensor:
    """View a per-channel statistic (C,) as (1, C, 1, ...) of ``ndim`` dims."""
    return stat.view(1, -1, *([1] * (ndim - 2)))


def masked_moments(x: Tensor, mask: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Per-channel mean and biased variance over the valid positions.

    Args:
        x (Tensor): Features (B, C, *S).
        mask (Tensor): Valid positions (B, *S), bool.

    Returns:
        tuple: Mean (C,), biased variance (C,) and the number of valid
        positions (a 0-dim tensor).
    """
    dims = [0, *range(2, x.dim())]
    count = mask.sum().to(x.dtype)
    mean = zero_padding(x, mask).sum(dims) / count
    centred = x - _per_channel(mean, x.dim())
    var = zero_padding(centred.square(), mask).sum(dims) / count
    return mean, var, count


class _MaskedBatchNormMixin:
    """Masked forward shared by :class:`MaskedBatchNorm1d` and ``2d``.

    Without a mask, or when the running statistics are used (eval mode), the
    forward is the parent BatchNorm's. Otherwise mean and biased variance are
    taken over the valid positions of the batch (in at least float32), and
    the running statistics are updated with the unbiased variance, as
    BatchNorm does.
    """

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Normalise ``x`` (B, C, *S) with statistics over ``mask`` (B, *S).

        Args:
            x (Tensor): Features (B, C, *S).
            mask (Tensor, optional): Valid positions (B, *S), bool.

        Returns:
            Tensor: Normalised features (B, C, *S), dtype of ``x``.
        """
        use_batch_stats = self.training or not self.track_running_stats
        if mask is None or not use_batch_stats:
            return super().forward(x)
        if mask.shape != x.shape[:1] + x.shape[2:]:
            raise ValueError(f'Mask {tuple(mask.shape)} does not match '
                             f'features {tuple(x.shape)}.')
        x_float = x.to(torch.promote_types(x.dtype, torch.float32))
        mean, var, count = masked_moments(x_float, mask)
        if count < 2:
            raise ValueError(f'{type(self).__name__} needs more than one '
                             'valid position per channel in training mode.')
        if self.training and self.track_running_stats:
            self._update_running_stats(mean, var * count / (count - 1))
        out = (x_float - _per_channel(mean, x.dim())) * _per_channel(
            torch.rsqrt(var + self.eps), x.dim())
        if self.affine:
            out = (out * _per_channel(self.weight, x.dim()) +
                   _per_channel(self.bias, x.dim()))
        return out.to(x.dtype)

    @torch.no_grad()
    def _update_running_stats(self, mean: Tensor, unbiased_var: Tensor):
        """Blend batch mean and unbiased variance (C,) into the buffers."""
        self.num_batches_tracked += 1
        momentum = (1.0 / float(self.num_batches_tracked)
                    if self.momentum is None else self.momentum)
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), momentum)
        self.running_var.lerp_(unbiased_var.to(self.running_var.dtype),
                               momentum)


class MaskedBatchNorm1d(_MaskedBatchNormMixin, nn.BatchNorm1d):
    """:class:`torch.nn.BatchNorm1d` over (B, C, T) with an optional mask.

    ``forward(x, mask=None)``: ``x`` (B, C, T), ``mask`` (B, T) of valid
    steps. In training mode the batch statistics skip the padded steps.
    """


class MaskedBatchNorm2d(_MaskedBatchNormMixin, nn.BatchNorm2d):
    """:class:`torch.nn.BatchNorm2d` over (B, C, H, W) with an optional mask.

    ``forward(x, mask=None)``: ``x`` (B, C, H, W), ``mask`` (B, H, W) of valid
    positions. In training mode the batch statistics skip the padded
    positions.
    """
