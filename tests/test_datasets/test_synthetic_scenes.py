"""The embedded dataset generator."""
import hashlib
import json
import os

import numpy as np
from pycocotools.coco import COCO

from mmcma.datasets import CocoMultiLabel, get_label_matrix
from mmcma.datasets.synthetic_scenes import CLASSES, generate


def digest(folder):
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(folder)):
        for name in sorted(files):
            with open(os.path.join(root, name), 'rb') as f:
                h.update(name.encode() + f.read())
    return h.hexdigest()


def test_deterministic(tmp_path):
    generate(str(tmp_path / 'a'), 12, 4, 32, seed=3)
    generate(str(tmp_path / 'b'), 12, 4, 32, seed=3)
    generate(str(tmp_path / 'c'), 12, 4, 32, seed=4)
    assert digest(tmp_path / 'a') == digest(tmp_path / 'b')
    assert digest(tmp_path / 'a') != digest(tmp_path / 'c')


def test_valid_coco(tmp_path):
    files = generate(str(tmp_path), 20, 5, 48, seed=0)
    coco = COCO(files['train'])
    assert len(coco.imgs) == 20
    assert [coco.cats[i]['name'] for i in sorted(coco.cats)] == list(CLASSES)
    for ann in coco.anns.values():
        x, y, w, h = ann['bbox']
        assert w > 0 and h > 0 and x >= 0 and y >= 0
        assert x + w <= 48 and y + h <= 48
        assert 0 < ann['area'] <= w * h
    for info in coco.imgs.values():
        assert os.path.isfile(tmp_path / 'train' / info['file_name'])
    with open(files['val']) as f:
        assert len(json.load(f)['images']) == 5


def test_cooccurrence_by_design(tmp_path):
    generate(str(tmp_path), 600, 10, 32, seed=0)
    ds = CocoMultiLabel(ann_file='annotations/instances_train.json',
                        data_root=str(tmp_path), data_prefix='train',
                        drop_empty=False)
    y = get_label_matrix(ds).astype(bool)
    col = {n: i for i, n in enumerate(ds.metainfo['classes'])}

    def p(a, given):
        return y[y[:, col[given]], col[a]].mean()

    # Kites come with people, traffic lights mostly with cars, boats never
    # with cars (different scenes): the rules of the generator.
    assert p('person', 'kite') == 1.0
    assert p('car', 'traffic light') > 0.7
    assert p('car', 'boat') == 0.0 and p('fish', 'car') == 0.0
    assert p('traffic light', 'car') > 2 * y[:, col['traffic light']].mean()
    # Every class occurs, and some images are empty.
    assert y.any(axis=0).all()
    assert (~y.any(axis=1)).sum() > 0


def test_spatial_context(tmp_path):
    files = generate(str(tmp_path), 200, 4, 64, seed=1)
    coco = COCO(files['train'])
    by_name = {c['name']: c['id'] for c in coco.cats.values()}

    def mean_center_y(name):
        anns = coco.loadAnns(coco.getAnnIds(catIds=[by_name[name]]))
        return np.mean([a['bbox'][1] + a['bbox'][3] / 2 for a in anns])

    for sky in ('sun', 'cloud', 'airplane'):
        for ground in ('car', 'fish', 'person'):
            assert mean_center_y(sky) < mean_center_y(ground)
