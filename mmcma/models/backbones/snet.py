"""SNet: the squeezing network over frame features (the video model of
*Cross-Modality Attention with Semantic Graph Embedding for Multi-Label
Classification*, AAAI 2020).

Padding never reaches valid outputs. Inputs are batches of frame features
(B, D, T) padded to a common T, with a boolean mask (B, T) of valid frames.

- Padded steps are set to zero before every convolution: a valid step next
  to the padding then sees exactly the zeros that the convolution's own
  zero padding gives at the end of an unpadded sequence.
- BatchNorm statistics (training mode) are computed over valid steps only
  (:class:`MaskedBatchNorm1d`); in eval mode BatchNorm is per step anyway.
- Max pooling (window 2, stride 2, ``ceil_mode``) ignores padded steps; a
  pooled step is valid when its window holds a valid step, and then its value
  depends on valid steps only. A valid length L becomes ceil(L / 2), as
  pooling the unpadded sequence would give.
- Outputs are zero at padded steps.

Hence each sample's valid outputs equal those of the sample alone without
padding (eval mode; in training mode the BatchNorm statistics of the batch
are unchanged by extra padding).
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ..utils import MaskedBatchNorm1d, MaskedFeature, zero_padding


def check_mask(x: Tensor, mask: Optional[Tensor]) -> Optional[Tensor]:
    """Check that ``mask`` is a (B, T) boolean mask matching ``x`` (B, C, T).

    Every sample must have at least one valid step.
    """
    if x.dim() != 3:
        raise ValueError(f'Expected features (B, C, T), got shape '
                         f'{tuple(x.shape)}.')
    if mask is None:
        return None
    if mask.dtype != torch.bool or mask.shape != (x.shape[0], x.shape[2]):
        raise ValueError(f'Expected a bool mask of shape '
                         f'{(x.shape[0], x.shape[2])}, got {mask.dtype} '
                         f'{tuple(mask.shape)}.')
    if not mask.any(dim=1).all():
        raise ValueError('Every sample needs at least one valid frame.')
    return mask


def masked_max_pool1d(
        x: Tensor,
        mask: Optional[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
    """Max pooling (window 2, stride 2, ceil mode) that ignores padding.

    Args:
        x (Tensor): Features (B, C, T).
        mask (Tensor, optional): Valid steps (B, T).

    Returns:
        tuple: Pooled features (B, C, ceil(T / 2)), zero at padded steps,
        and the pooled mask (a step is valid when its window holds a valid
        step), or None.
    """
    if mask is None:
        return F.max_pool1d(x, 2, 2, ceil_mode=True), None
    x = x.masked_fill(~mask.unsqueeze(1), float('-inf'))
    pooled = F.max_pool1d(x, 2, 2, ceil_mode=True)
    pooled_mask = F.max_pool1d(
        mask.unsqueeze(1).float(), 2, 2, ceil_mode=True).squeeze(1) > 0
    return zero_padding(pooled, pooled_mask), pooled_mask


class MaskedConvBlock(nn.Module):
    """Conv1d -> masked BatchNorm (optional) -> ReLU, zero at padding.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Odd kernel size (``same`` zero padding).
        norm (bool): Use :class:`MaskedBatchNorm1d`. Defaults to True.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 norm: bool = True):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}.')
        self.conv = nn.Conv1d(
            in_channels,
            out_channels,
            kernel_size,
            padding=kernel_size // 2,
            bias=not norm)
        self.norm = MaskedBatchNorm1d(out_channels) if norm else None
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor, mask: Optional[Tensor]) -> Tensor:
        """Map (B, C_in, T) to (B, C_out, T)."""
        x = self.conv(zero_padding(x, mask))
        if self.norm is not None:
            x = self.norm(x, mask)
        return zero_padding(self.act(x), mask)


@MODELS.register_module()
class SNet(BaseModule):
    """Squeezing network: [Conv1d -> BN -> ReLU -> max pool /2] x 4.

    The paper gives the structure (4 successive 1-D convolution and pooling
    layers squeezing time) but not the widths or kernel sizes; they are
    arguments here.

    Args:
        in_channels (int): Frame feature size D (1024 for YouTube-8M rgb,
            128 audio, 1152 both). Defaults to 1024.
        channels (Sequence[int]): Output channels of each layer; its length
            is the number of layers. Defaults to ``(512, 512, 512, 512)``.
        kernel_size (int): Odd temporal kernel size. Defaults to 3.
        norm (bool): Use masked BatchNorm after each convolution.
            Defaults to True.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    #: Halve time after each layer (False in :class:`SNetFC`).
    pool = True

    def __init__(self,
                 in_channels: int = 1024,
                 channels: Sequence[int] = (512, 512, 512, 512),
                 kernel_size: int = 3,
                 norm: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = dict(
                     type='Kaiming', layer='Conv1d')):
        super().__init__(init_cfg=init_cfg)
        widths = [in_channels, *channels]
        self.layers = nn.ModuleList(
            MaskedConvBlock(cin, cout, kernel_size, norm)
            for cin, cout in zip(widths, widths[1:]))
        self.out_channels = widths[-1]
        #: Input frames per output step (each pooling layer halves time).
        self.temporal_stride = 2**len(channels) if self.pool else 1

    def forward(self,
                x: Tensor,
                mask: Optional[Tensor] = None) -> Tuple[MaskedFeature]:
        """Squeeze time.

        Args:
            x (Tensor): Frame features (B, D, T).
            mask (Tensor, optional): Valid frames (B, T), bool.

        Returns:
            tuple: One :class:`~mmcma.models.utils.MaskedFeature` with
            features (B, C, T') and mask (B, T') (None when no mask was
            given), T' = ceil(T / 2^layers) (T for :class:`SNetFC`).
        """
        mask = check_mask(x, mask)
        for layer in self.layers:
            x = layer(x, mask)
            if self.pool:
                x, mask = masked_max_pool1d(x, mask)
        return (MaskedFeature(x, mask), )


@MODELS.register_module()
class SNetFC(SNet):
    """The FC variant: two per-frame fully connected layers, no squeezing.

    Each layer is Linear -> BN -> ReLU applied to every frame (a kernel-1
    Conv1d, without pooling), so the mask passes through unchanged.

    Args:
        in_channels (int): Frame feature size D. Defaults to 1024.
        channels (Sequence[int]): Widths of the two layers.
            Defaults to ``(1024, 1024)``.
        norm (bool): Use masked BatchNorm. Defaults to True.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    pool = False

    def __init__(self,
                 in_channels: int = 1024,
                 channels: Sequence[int] = (1024, 1024),
                 norm: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = dict(
                     type='Kaiming', layer='Conv1d')):
        if len(channels) != 2:
            raise ValueError(f'SNetFC has two layers, got widths {channels}.')
        super().__init__(in_channels, channels, kernel_size=1, norm=norm,
                         init_cfg=init_cfg)
