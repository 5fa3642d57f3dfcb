"""Shared test set-up: one torch thread, the ``slow`` marker, scene fixtures.

Tests that run a tool in a subprocess or train a model are marked ``slow``
(``make test-fast`` skips them; ``make test`` and CI run everything).
"""
import os

import numpy as np
import pytest
import torch

from mmcma.datasets.synthetic_scenes import generate
from tests.helpers.voc import VOC_MAIN, read_voc_trainval

torch.set_num_threads(1)

#: (train images, val images, image size, seed) of the ``scenes`` fixture,
#: unless a test module sets its own ``SCENES``.
DEFAULT_SCENES = (16, 4, 32, 0)


@pytest.fixture(scope='session')
def make_scenes(tmp_path_factory):
    """``make_scenes(num_train, num_val, size, seed)``: a folder of the
    embedded scenes (COCO layout), generated once per session per setting."""
    made = {}

    def make(num_train: int, num_val: int, size: int = 32,
             seed: int = 0) -> str:
        key = (num_train, num_val, size, seed)
        if key not in made:
            root = tmp_path_factory.mktemp('scenes')
            generate(str(root), num_train, num_val, size, seed=seed)
            made[key] = str(root)
        return made[key]

    return make


@pytest.fixture(scope='module')
def scenes(request, make_scenes) -> str:
    """The embedded scenes for this module: its ``SCENES`` setting (train,
    val, size, seed), else :data:`DEFAULT_SCENES`."""
    return make_scenes(*getattr(request.module, 'SCENES', DEFAULT_SCENES))


@pytest.fixture(scope='session')
def voc():
    """Real VOC 2007 trainval labels: (raw 1 / -1 / 0 values, positives as
    a 0/1 matrix: difficult and negative count as absent, as in ML-GCN)."""
    if not os.path.isdir(VOC_MAIN):
        pytest.skip(f'PASCAL VOC 2007 label files not found at {VOC_MAIN}')
    raw = read_voc_trainval()
    return raw, (raw == 1).astype(np.uint8)
