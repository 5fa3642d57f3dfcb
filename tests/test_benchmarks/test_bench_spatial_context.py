"""benchmarks/bench_spatial_context.py times the paper configs' spatial
model (their sizes, anchors scaled to the image), which builds and runs."""
import argparse

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

import mmcma  # noqa: F401  (registers the models)

bench = pytest.importorskip('bench_spatial_context')


def test_spatial_model_is_the_paper_configs():
    paper = Config.fromfile(bench.PAPER_MODEL).model
    cfg = bench.paper_spatial_model(depth=18, num_classes=5, img_size=224,
                                    post_nms=10)
    head, generator = cfg['head'], cfg['head']['patch_generator']
    extractor = head['roi_extractor']
    assert cfg['neck']['out_channels'] == paper.neck.out_channels
    for key in ('out_channels', 'sampling_ratio', 'roi_size', 'in_channels'):
        assert extractor[key] == paper.head.roi_extractor[key]
    assert head['branches'] == paper.head.branches
    assert generator['head'] == paper.head.patch_generator.head
    # Scaled from 448 px to 224 px.
    assert extractor['canonical_scale'] == \
        paper.head.roi_extractor.canonical_scale // 2
    assert generator['anchor_generator']['sizes'] == tuple(
        tuple(s // 2 for s in level)
        for level in paper.head.patch_generator.anchor_generator.sizes)
    assert generator['train_cfg']['post_nms_top_n'] == 10
    assert generator['test_cfg']['post_nms_top_n'] == 10
    assert head['train_cfg']['sampler']['num'] == 10
    assert cfg['neck']['in_channels'] == [64, 128, 256, 512]


def test_models_build_and_predict():
    args = argparse.Namespace(depth=18, num_classes=5, img_size=64,
                              post_nms=8, old=True)
    configs = bench.model_configs(args)
    assert list(configs) == ['linear', 'spatial-context',
                             'spatial-context (before)']
    torch.manual_seed(0)
    inputs = torch.randn(2, 3, 64, 64)
    for cfg in configs.values():
        model = MODELS.build(cfg).eval()
        with torch.no_grad():
            samples = model(inputs, mode='predict')
        assert [s.pred_score.shape for s in samples] == [(5, )] * 2
