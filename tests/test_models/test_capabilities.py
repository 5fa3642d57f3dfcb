"""Capabilities are declared by the classes and read by the tools."""
import os

import pytest
from mmengine.config import Config
from mmpretrain import get_model

from mmcma.apis.onnx_export import ProbabilityModel
from mmcma.models import (FEATURE_INPUT, IMAGE_INPUT, ShowsAttention,
                          model_capabilities)
from tests.helpers.demo_models import CONFIGS, random_model
from tests.helpers.tool_runner import ROOT

VIDEO = os.path.join(ROOT, 'configs', 'video',
                     'cma_snet-w64_1xb32-coslr-20e_yt8m-demo.py')


@pytest.mark.parametrize('kind, attention, patches, refused', [
    ('linear', False, False, False),
    ('cma', True, False, False),
    ('mscma', True, False, False),
    ('spatial-context', False, True, True),
])
def test_demo_models_declare_what_they_show(kind, attention, patches,
                                            refused):
    model = random_model(CONFIGS[kind])
    found = model_capabilities(model)
    assert found.attention is attention
    assert found.patches is patches
    assert (found.onnx_refusal is not None) is refused
    assert found.input_kind == IMAGE_INPUT
    if refused:
        with pytest.raises(NotImplementedError) as refusal:
            ProbabilityModel(model)
        assert found.onnx_refusal in str(refusal.value)


def test_video_model_reads_frame_features():
    model = get_model(Config.fromfile(VIDEO))
    assert model_capabilities(model).input_kind == FEATURE_INPUT


def test_a_head_without_the_mixin_has_no_attention_even_with_the_method():
    """Declared, not guessed: a method of the same name is not enough."""
    model = random_model(CONFIGS['linear'])
    model.head.get_attention = lambda feats: []
    assert not model_capabilities(model).attention
    assert isinstance(random_model(CONFIGS['cma']).head, ShowsAttention)
