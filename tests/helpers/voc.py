"""The real PASCAL VOC 2007 image-level labels of ``../shared/data``."""
import os

import numpy as np

from .tool_runner import ROOT

VOC_MAIN = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'voc2007',
                        'ImageSets', 'Main')
VOC_CLASSES = sorted([
    'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat',
    'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person',
    'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor'
])


def read_voc_trainval() -> np.ndarray:
    """(S, 20) matrix of the VOC values 1 / -1 / 0 of each class."""
    columns = []
    images = None
    for name in VOC_CLASSES:
        path = os.path.join(VOC_MAIN, f'{name}_trainval.txt')
        with open(path) as f:
            rows = [line.split() for line in f if line.strip()]
        ids = [row[0] for row in rows]
        if images is None:
            images = ids
        assert ids == images, f'{path} lists other images'
        columns.append([int(row[1]) for row in rows])
    return np.array(columns).T
