"""Cross-modality transformer (CMT) neck of CMA / MS-CMA (*Cross-Modality
Attention with Semantic Graph Embedding for Multi-Label Classification*, AAAI
2020)."""
from typing import List, Optional, Sequence, Tuple, Union

from mmcv.cnn import ConvModule, build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from mmpretrain.models.backbones.resnet import Bottleneck
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ..utils import (CMTFeature, MaskedBatchNorm2d, MaskedFeature,
                     as_masked_feature, feature_problem, zero_padding)

#: Norm types that the neck builds as :class:`MaskedBatchNorm2d`.
_BATCH_NORM_TYPES = ('BN', 'BN2d')


def _masked_norm_cfg(norm_cfg: Optional[dict]) -> Optional[dict]:
    """Swap BatchNorm (``'BN'``, ``'BN2d'``) for :class:`MaskedBatchNorm2d`.

    The layer keeps BatchNorm's parameter and buffer names, so checkpoints
    load unchanged. Other norm types (and None) are returned as given; they
    cannot take a mask.
    """
    if norm_cfg is None or norm_cfg.get('type') not in _BATCH_NORM_TYPES:
        return norm_cfg
    return {**norm_cfg, 'type': MaskedBatchNorm2d}


def _apply_norm(norm: nn.Module, x: Tensor, mask: Optional[Tensor]) -> Tensor:
    """Normalise ``x`` (B, C, H, W); with a mask (B, H, W), skip padding.

    Raises:
        TypeError: If a mask is given and ``norm`` cannot take one.
    """
    if mask is None:
        return norm(x)
    if not isinstance(norm, MaskedBatchNorm2d):
        raise TypeError('Masked inputs need BatchNorm (norm_cfg type '
                        f'{_BATCH_NORM_TYPES}), got {type(norm).__name__}.')
    return norm(x, mask)


def _conv_norm_act(block: ConvModule, x: Tensor,
                   mask: Optional[Tensor]) -> Tensor:
    """Run a ConvModule (order conv, norm, act) with a mask-aware norm.

    Why not ``block(x)``: ``ConvModule.forward`` calls its norm layer with
    the features alone, so the mask cannot reach the masked BatchNorm; this
    function runs the same three layers and passes it on.

    Args:
        block (ConvModule): A 1x1 conv module in the default order.
        x (Tensor): Input (B, C_in, H, W).
        mask (Tensor, optional): Valid positions (B, H, W), bool.

    Returns:
        Tensor: Output (B, C_out, H, W).
    """
    x = block.conv(x)
    if block.with_norm:
        x = _apply_norm(block.norm, x, mask)
    return block.activate(x) if block.with_activation else x


class MaskedBottleneck(Bottleneck):
    """ResNet bottleneck (``pytorch`` style) that carries a validity mask.

    Why a subclass with its own forward: mmpretrain's ``Bottleneck.forward``
    takes no mask, so it can neither pass one to its norm layers nor zero
    the padding before its 3x3 conv (tested in ``tests/test_cmt_neck.py``:
    padding would change valid outputs).

    With a mask (B, H, W), the BatchNorm statistics skip masked positions and
    the input of the 3x3 conv, the only layer that mixes positions, is zero
    at masked positions: a valid position next to the padding sees the zeros
    that the conv's own zero padding gives at the border of an unpadded
    input. Valid outputs are hence independent of the padding, in training
    and in eval mode. Without a mask it computes
    :class:`~mmpretrain.models.backbones.resnet.Bottleneck`'s forward, for
    the configuration :class:`CMTNeck` builds: ``downsample`` is
    ``nn.Sequential(conv, norm)``, dilation 1, no ``with_cp``, no drop path.
    """

    def forward(
            self,
            x: Tensor,
            mask: Optional[Tensor] = None) -> Tuple[Tensor, Optional[Tensor]]:
        """Apply the block.

        Args:
            x (Tensor): Input (B, C_in, H, W).
            mask (Tensor, optional): Valid positions (B, H, W), bool.

        Returns:
            tuple: Output (B, C_out, H', W') and its mask (B, H', W') (the
            mask at the centres of the strided 3x3 conv), or None.
        """
        stride = self.stride
        out_mask = None if mask is None else mask[:, ::stride, ::stride]
        out = self.relu(_apply_norm(self.norm1, self.conv1(x), mask))
        out = self.conv2(zero_padding(out, mask))
        out = self.relu(_apply_norm(self.norm2, out, out_mask))
        out = _apply_norm(self.norm3, self.conv3(out), out_mask)
        down_conv, down_norm = self.downsample
        out = self.relu(out + _apply_norm(down_norm, down_conv(x), out_mask))
        if out_mask is not None and out_mask.shape[1:] != out.shape[2:]:
            raise RuntimeError(f'Mask {tuple(out_mask.shape)} does not match '
                               f'the output {tuple(out.shape)}.')
        return out, out_mask


def _as_map(x: Tensor,
            mask: Optional[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
    """View a sequence (B, C, T) as a map (B, C, T, 1); maps pass through."""
    if x.dim() == 3:
        return x.unsqueeze(-1), None if mask is None else mask.unsqueeze(-1)
    return x, mask


def _per_scale(value, num_scales: int, is_item) -> list:
    """Broadcast one setting to every scale, or check a per-scale list."""
    if is_item(value):
        return [value] * num_scales
    value = list(value)
    if len(value) != num_scales:
        raise ValueError(f'Expected one setting per scale ({num_scales}), '
                         f'got {len(value)}: {value}.')
    return value


@MODELS.register_module()
class CMTNeck(BaseModule):
    """Dimension reduction + cross-modality transformer, per scale.

    For every scale the neck computes the visual features
    ``I = reduce(x)`` (a 1x1 conv) and their projection into the label
    embedding space ``I_s = f_cmt(I)`` (a stack of 1x1 conv + BN + ReLU whose
    last layer has ``embed_dim`` channels). The CMA head attends with ``I_s``
    and pools ``I``.

    Scales: with ``in_channels`` an int the neck uses the last backbone
    output; with a sequence of length L it uses the last L outputs (e.g. ResNet
    ``out_indices=(2, 3)`` and ``in_channels=(1024, 2048)``). ``extra_stage``
    adds one more scale, a stride-2 bottleneck block on the last backbone
    output (MS-CMA: C5 14x14x2048 -> 7x7x512 at 448 px).

    Inputs may be maps (B, C, H, W) or sequences (B, C, T); a sequence is
    processed as a (B, C, T, 1) map, so both share one code path. An input item
    may be a :class:`~mmcma.models.utils.MaskedFeature` with a boolean mask
    (B, T) (or (B, H, W)) of valid positions; the mask is passed on in the
    scale's :class:`~mmcma.models.utils.CMTFeature` (and subsampled by the
    extra stage). BatchNorm layers are
    :class:`~mmcma.models.utils.MaskedBatchNorm2d`: without a mask they are
    plain BatchNorm (same parameters and buffers); with one, their training
    mode statistics skip masked positions. The extra stage zeroes the input
    of its 3x3 conv at masked positions (:class:`MaskedBottleneck`). Hence,
    in training and in eval mode, padding changes neither the outputs at
    valid positions nor the running statistics; outputs at masked positions
    are unspecified. A mask requires BatchNorm (``norm_cfg`` type ``'BN'``).

    Args:
        in_channels (int | Sequence[int]): Channels of the used backbone
            outputs.
        reduced_channels (int | Sequence[int]): Channels C of the visual
            features I, one value for all scales or one per scale (the extra
            stage counts as the last scale). Defaults to 512.
        embed_dim (int, optional): Channels Ce of I_s; equal to the
            label-embedding dimension. None builds no CMT stack (``projected``
            is None): for heads that do not attend with label embeddings
            (self-attention). Defaults to 256.
        cmt_channels (Sequence[int] | Sequence[Sequence[int]]): Hidden widths
            of the CMT stack before its last (``embed_dim``) layer, for all
            scales or per scale; ``()`` gives a single layer.
            Defaults to ``(256,)`` (two layers).
        extra_stage (dict, optional): Adds a scale from a bottleneck block on
            the last backbone output. Keys: ``out_channels`` (default 512),
            ``stride`` (default 2), ``expansion`` (default 4). Defaults to
            None (no extra scale).
        conv_cfg (dict, optional): Conv layer config. Defaults to None.
        norm_cfg (dict): Norm layer config; ``'BN'`` / ``'BN2d'`` build
            :class:`~mmcma.models.utils.MaskedBatchNorm2d`.
            Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 reduced_channels: Union[int, Sequence[int]] = 512,
                 embed_dim: Optional[int] = 256,
                 cmt_channels: Sequence = (256, ),
                 extra_stage: Optional[dict] = None,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[Union[dict,
                                          List[dict]]] = dict(type='Kaiming',
                                                              layer='Conv2d')):
        super().__init__(init_cfg=init_cfg)
        norm_cfg = _masked_norm_cfg(norm_cfg)
        in_channels = ([in_channels]
                       if isinstance(in_channels, int) else list(in_channels))
        self.in_channels = in_channels
        self.num_inputs = len(in_channels)

        scale_channels = list(in_channels)
        self.extra_stage = None
        if extra_stage is not None:
            self.extra_stage = self._build_extra_stage(in_channels[-1],
                                                       conv_cfg, norm_cfg,
                                                       **extra_stage)
            scale_channels.append(self.extra_stage.out_channels)
        self.num_scales = len(scale_channels)

        reduced = _per_scale(reduced_channels, self.num_scales,
                             lambda v: isinstance(v, int))
        hidden = _per_scale(
            cmt_channels, self.num_scales,
            lambda v: len(v) == 0 or all(isinstance(c, int) for c in v))
        self.reduced_channels = reduced
        self.embed_dim = embed_dim

        def conv1x1(cin: int, cout: int) -> ConvModule:
            return ConvModule(cin,
                              cout,
                              1,
                              conv_cfg=conv_cfg,
                              norm_cfg=norm_cfg,
                              act_cfg=act_cfg)

        self.reductions = nn.ModuleList(
            conv1x1(cin, c) for cin, c in zip(scale_channels, reduced))
        self.transformers = nn.ModuleList()
        for c, widths in zip(reduced if embed_dim is not None else [],
                             hidden):
            widths = [c, *widths, embed_dim]
            self.transformers.append(
                nn.Sequential(*(conv1x1(cin, cout)
                                for cin, cout in zip(widths, widths[1:]))))

    @staticmethod
    def _build_extra_stage(in_channels: int,
                           conv_cfg: Optional[dict],
                           norm_cfg: dict,
                           out_channels: int = 512,
                           stride: int = 2,
                           expansion: int = 4) -> MaskedBottleneck:
        """One bottleneck block with a projection shortcut."""
        downsample = nn.Sequential(
            build_conv_layer(conv_cfg,
                             in_channels,
                             out_channels,
                             kernel_size=1,
                             stride=stride,
                             bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])
        return MaskedBottleneck(in_channels,
                                out_channels,
                                expansion=expansion,
                                stride=stride,
                                downsample=downsample,
                                conv_cfg=conv_cfg,
                                norm_cfg=norm_cfg)

    def forward(self, inputs: Sequence[Union[Tensor, MaskedFeature]]
                ) -> Tuple[CMTFeature, ...]:
        """Reduce and project every scale.

        Args:
            inputs (Sequence): Backbone outputs (one per ``out_indices``);
                each item a Tensor (B, C, H, W) / (B, C, T) or a
                :class:`~mmcma.models.utils.MaskedFeature`.

        Returns:
            tuple[CMTFeature]: One per scale: ``visual`` (B, C_l, *S),
            ``projected`` (B, embed_dim, *S) (None without a CMT stack) and
            ``mask`` (B, *S) (None when the input had none).
        """
        if isinstance(inputs, (Tensor, MaskedFeature)) or not isinstance(
                inputs, (tuple, list)):
            raise TypeError(
                'CMTNeck expects the tuple of backbone outputs (one item per '
                f'out_index), got a {type(inputs).__name__}; wrap a single '
                'map as (x,)')
        if len(inputs) < self.num_inputs:
            raise ValueError(
                f'CMTNeck expects at least {self.num_inputs} inputs (one per '
                f'in_channels), got {len(inputs)}: give the backbone as many '
                'out_indices.')
        items = []
        used = inputs[len(inputs) - self.num_inputs:]
        for item, channels in zip(used, self.in_channels):
            x, mask = as_masked_feature(item, 'CMTNeck')
            problem = feature_problem(x.shape, channels, 'CMTNeck')
            if problem:
                raise ValueError(problem)
            items.append((x.dim() == 3, *_as_map(x, mask)))
        if self.extra_stage is not None:
            is_seq, x, mask = items[-1]
            items.append((is_seq, *self.extra_stage(x, mask)))

        outs = []
        for i, (is_seq, x, mask) in enumerate(items):
            visual = _conv_norm_act(self.reductions[i], x, mask)
            projected = None
            if self.embed_dim is not None:
                projected = visual
                for block in self.transformers[i]:
                    projected = _conv_norm_act(block, projected, mask)
            if is_seq:
                visual = visual.squeeze(-1)
                projected = None if projected is None else \
                    projected.squeeze(-1)
                mask = None if mask is None else mask.squeeze(-1)
            outs.append(CMTFeature(visual, projected, mask))
        return tuple(outs)
