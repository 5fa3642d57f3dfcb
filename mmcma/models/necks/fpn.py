"""The feature extractor's second half: a feature pyramid (FPN) neck."""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple

from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor
from torchvision.ops import FeaturePyramidNetwork

from ..utils import feature_problem


@MODELS.register_module()
class FeaturePyramidNeck(BaseModule):
    """torchvision's ``FeaturePyramidNetwork`` as an mmpretrain neck.

    Takes the backbone's multi-scale outputs (any mmpretrain backbone with
    ``out_indices`` over several stages, fine to coarse) and returns one map
    per input with ``out_channels`` channels: lateral 1x1 convs, a top-down
    pathway of nearest up-sampling and sums, a 3x3 conv per level. With a
    ResNet's four stages this is the 4-level pyramid P2-P5 (strides 4-32).

    Args:
        in_channels (Sequence[int]): Channels of each backbone output.
        out_channels (int): Channels of every pyramid level.
        init_cfg (dict, optional): Initialisation config (torchvision
            already draws Kaiming-uniform conv weights, zero biases).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: int = 256,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = tuple(in_channels)
        self.out_channels = out_channels
        self.fpn = FeaturePyramidNetwork(list(in_channels), out_channels)

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Pyramid levels (B, out_channels, H_l, W_l), fine to coarse."""
        if len(inputs) != len(self.in_channels):
            raise ValueError(
                f'FeaturePyramidNeck expects {len(self.in_channels)} backbone '
                f'outputs (in_channels={self.in_channels}), got {len(inputs)}:'
                ' set the backbone out_indices to match')
        for x, channels in zip(inputs, self.in_channels):
            problem = feature_problem(x.shape, channels,
                                      'FeaturePyramidNeck')
            if problem is None and x.dim() != 4:
                problem = ('FeaturePyramidNeck expects maps (B, C, H, W), '
                           f'got shape {tuple(x.shape)}')
            if problem:
                raise ValueError(problem)
        maps = self.fpn(OrderedDict((str(i), x) for i, x in enumerate(inputs)))
        return tuple(maps.values())
