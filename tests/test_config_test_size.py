"""Every image config tests at the size its model trains at: the test
pipeline warps each image to it (so photos of any size batch), the papers'
448 px for the paper configs, the generated scenes' size for the demos."""
import glob
import inspect
import os
import re

import pytest
from mmengine.config import Config

from mmcma.datasets.synthetic_scenes import generate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Training transforms that bring every image to one size (their scale).
RESIZING = ('RandomResizedCrop', 'MultiScaleCrop', 'BoxRandomResizedCrop',
            'Resize')
IMAGE_CONFIGS = sorted(
    p for p in glob.glob(os.path.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True)
    if '_base_' not in p and os.sep + 'video' + os.sep not in p)


def square(scale):
    return (scale, scale) if isinstance(scale, int) else tuple(scale)


def training_size(cfg):
    """The size the model trains at: the scale of the training pipeline's
    resizing crop, else (no resize: the scenes as generated) the
    generator's default side."""
    scales = [square(t['scale'])
              for t in cfg.train_dataloader.dataset.pipeline
              if t['type'] in RESIZING]
    if scales:
        assert len(scales) == 1, scales
        return scales[0]
    assert cfg.train_dataloader.dataset.data_root.endswith('scenes')
    side = inspect.signature(generate).parameters['size'].default
    return (side, side)


@pytest.mark.parametrize('path', IMAGE_CONFIGS,
                         ids=[os.path.relpath(p, ROOT) for p in IMAGE_CONFIGS])
def test_test_pipeline_resizes_to_the_training_size(path):
    cfg = Config.fromfile(path)
    pipeline = cfg.test_dataloader.dataset.pipeline
    assert pipeline[0]['type'] == 'LoadImageFromFile'
    assert pipeline[-1]['type'] == 'PackInputs'
    resizes = [t for t in pipeline if t['type'] == 'Resize']
    assert len(resizes) == 1, f'{path}: one Resize in the test pipeline'
    [resize] = resizes
    assert not resize.get('keep_ratio', False)  # a warp: one output size
    assert square(resize['scale']) == training_size(cfg)
    # The name's size field says the same (configs/README.md).
    size = re.search(r'-(\d+)px\.py$', path)
    if size:
        assert square(resize['scale']) == square(int(size.group(1)))
