"""Cross-modality transformer (CMT) neck of CMA / MS-CMA."""
from typing import List, Optional, Sequence, Tuple, Union

from mmcv.cnn import ConvModule, build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from mmpretrain.models.backbones.resnet import Bottleneck
from mmpretrain.registry import MODELS
from torch import Tensor, nn

#: A neck input item: a feature tensor, or ``(tensor, mask)``.
FeatureItem = Union[Tensor, Tuple[Tensor, Tensor]]


def _as_map(x: Tensor,
            mask: Optional[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
    """View a sequence (B, C, T) as a map (B, C, T, 1); maps pass through."""
    if x.dim() == 3:
        return x.unsqueeze(-1), None if mask is None else mask.unsqueeze(-1)
    if x.dim() != 4:
        raise ValueError('CMTNeck expects (B, C, H, W) maps or (B, C, T) '
                         f'sequences, got shape {tuple(x.shape)}.')
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
    may be ``(tensor, mask)`` with a boolean mask (B, T) (or (B, H, W)) of
    valid positions; the mask is passed on with the scale's outputs (and
    subsampled by the extra stage, whose input is zeroed at masked positions
    so that padding cannot leak into valid positions through its 3x3 conv).
    BatchNorm in training mode still sees padded positions; in eval mode
    padding does not change the outputs at valid positions.

    Args:
        in_channels (int | Sequence[int]): Channels of the used backbone
            outputs.
        reduced_channels (int | Sequence[int]): Channels C of the visual
            features I, one value for all scales or one per scale (the extra
            stage counts as the last scale). Defaults to 512.
        embed_dim (int): Channels Ce of I_s; equal to the label-embedding
            dimension. Defaults to 256.
        cmt_channels (Sequence[int] | Sequence[Sequence[int]]): Hidden widths
            of the CMT stack before its last (``embed_dim``) layer, for all
            scales or per scale; ``()`` gives a single layer.
            Defaults to ``(256,)`` (two layers).
        extra_stage (dict, optional): Adds a scale from a bottleneck block on
            the last backbone output. Keys: ``out_channels`` (default 512),
            ``stride`` (default 2), ``expansion`` (default 4). Defaults to
            None (no extra scale).
        conv_cfg (dict, optional): Conv layer config. Defaults to None.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 reduced_channels: Union[int, Sequence[int]] = 512,
                 embed_dim: int = 256,
                 cmt_channels: Sequence = (256, ),
                 extra_stage: Optional[dict] = None,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[Union[dict,
                                          List[dict]]] = dict(type='Kaiming',
                                                              layer='Conv2d')):
        super().__init__(init_cfg=init_cfg)
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
        for c, widths in zip(reduced, hidden):
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
                           expansion: int = 4) -> Bottleneck:
        """One bottleneck block with a projection shortcut."""
        downsample = nn.Sequential(
            build_conv_layer(conv_cfg,
                             in_channels,
                             out_channels,
                             kernel_size=1,
                             stride=stride,
                             bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])
        return Bottleneck(in_channels,
                          out_channels,
                          expansion=expansion,
                          stride=stride,
                          downsample=downsample,
                          conv_cfg=conv_cfg,
                          norm_cfg=norm_cfg)

    def _extra_scale(
            self, x: Tensor,
            mask: Optional[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
        """Apply the extra stage to a (B, C, H, W) map and subsample mask."""
        stride = self.extra_stage.stride
        if mask is not None:
            x = x * mask.unsqueeze(1).to(x.dtype)
            mask = mask[:, ::stride, ::stride]
        out = self.extra_stage(x)
        if mask is not None and mask.shape[1:] != out.shape[2:]:
            raise RuntimeError(f'Mask {tuple(mask.shape)} does not match the '
                               f'extra stage output {tuple(out.shape)}.')
        return out, mask

    def forward(self, inputs: Sequence[FeatureItem]) -> Tuple[tuple, ...]:
        """Reduce and project every scale.

        Args:
            inputs (Sequence): Backbone outputs; each item a tensor
                (B, C, H, W) / (B, C, T), or ``(tensor, mask)``.

        Returns:
            tuple: One item per scale, ``(visual, projected)`` with shapes
            (B, C_l, *S) and (B, embed_dim, *S), or
            ``(visual, projected, mask)`` when the input carried a mask.
        """
        if len(inputs) < self.num_inputs:
            raise ValueError(f'CMTNeck expects at least {self.num_inputs} '
                             f'inputs, got {len(inputs)}.')
        items = []
        for item in inputs[len(inputs) - self.num_inputs:]:
            x, mask = (item, None) if isinstance(item, Tensor) else item
            items.append((x.dim() == 3, *_as_map(x, mask)))
        if self.extra_stage is not None:
            is_seq, x, mask = items[-1]
            items.append((is_seq, *self._extra_scale(x, mask)))

        outs = []
        for (is_seq, x,
             mask), reduce, transform in zip(items, self.reductions,
                                             self.transformers):
            visual = reduce(x)
            projected = transform(visual)
            if is_seq:
                visual, projected = visual.squeeze(-1), projected.squeeze(-1)
                mask = None if mask is None else mask.squeeze(-1)
            outs.append((visual,
                         projected) if mask is None else (visual, projected,
                                                          mask))
        return tuple(outs)
