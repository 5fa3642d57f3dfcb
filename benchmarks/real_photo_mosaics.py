"""Multi-label mosaics of real photos, in COCO format, from offline material.

Two sources, both installable without network access beyond the package
registries:

* ``fashion-mnist``: the 70,000 real 28x28 product photos of Debian's
  ``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``, files
  under ``/usr/share/datasets/fashion-mnist/``), 10 classes. Train mosaics take
  items from the 60,000 training photos, val mosaics from the 10,000 test
  photos: no item is in both splits.
* ``photos``: crops of 16 real photographs that ship inside Python wheels
  (scikit-image's ``skimage.data``, scikit-learn's sample images,
  matplotlib's ``grace_hopper.jpg``); each photo is one class. Each photo is
  split along its longer side: train crops come from the first 65 %, val
  crops from the rest, so no pixel is in both splits. Crops have a random
  size (20-45 % of the shorter side), position and horizontal flip. This set
  is about instances and textures (which photo a patch comes from), not
  categories; it has colour and texture statistics that Fashion-MNIST lacks.

Each image is a square canvas split into a 2x2 or 3x3 grid (equally likely);
a random number of cells (1 to all but one) hold an item, the rest stay
black. Labels are the set of classes present. Classes co-occur through
themes: each image draws a theme (a group of classes), and each item comes
from that theme with probability 0.75, else from any class, so the label
graph has structure as in real data.

Layout (what :class:`mmcma.datasets.CocoMultiLabel` reads)::

    OUT/annotations/instances_train.json   OUT/train/000000.png ...
    OUT/annotations/instances_val.json     OUT/val/000000.png ...

Each item is one annotation whose bbox is its cell.

Example::

    python benchmarks/real_photo_mosaics.py --source fashion-mnist \
        --out data/fashion_mosaics --num-train 2000 --num-val 1000
"""
import argparse
import gzip
import json
import os
import os.path as osp
from typing import Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np

FASHION_ROOT = '/usr/share/datasets/fashion-mnist'
FASHION_CLASSES = ('T-shirt/top', 'trouser', 'pullover', 'dress', 'coat',
                   'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot')
#: Fashion themes (class indices): summer, winter, office, casual.
FASHION_THEMES = ((0, 3, 5, 8), (2, 4, 9, 1), (6, 1, 4, 8), (0, 1, 7, 2))

#: Photo classes: (name, loader) where loader returns an RGB/grey uint8 array.
PHOTO_SOURCES = (
    ('astronaut', 'skimage:astronaut'), ('brick', 'skimage:brick'),
    ('camera', 'skimage:camera'), ('cat', 'skimage:chelsea'),
    ('coffee', 'skimage:coffee'), ('coins', 'skimage:coins'),
    ('grass', 'skimage:grass'), ('gravel', 'skimage:gravel'),
    ('galaxies', 'skimage:hubble_deep_field'),
    ('tissue', 'skimage:immunohistochemistry'), ('moon', 'skimage:moon'),
    ('retina', 'skimage:retina'), ('rocket', 'skimage:rocket'),
    ('temple', 'sklearn:china.jpg'), ('flower', 'sklearn:flower.jpg'),
    ('portrait', 'matplotlib:grace_hopper.jpg'))
#: Photo themes: textures, people, objects and scenes, microscopy and space.
PHOTO_THEMES = ((1, 5, 6, 7, 10), (0, 2, 15, 3), (3, 4, 12, 13, 14),
                (8, 9, 11, 10))
TRAIN_FRACTION = 0.65
THEME_PROB = 0.75
SPLIT_IDS = dict(train=0, val=1)

Rng = np.random.Generator
#: Draws one item image of a class: (rng, class index) -> uint8 (h, w, 3).
ItemSampler = Callable[[Rng, int], np.ndarray]


def read_idx(path: str, magic: int) -> np.ndarray:
    """Read a gzip IDX file (MNIST format): uint8 labels or images.

    Args:
        path (str): ``*-idx1-ubyte.gz`` (labels) or ``*-idx3-ubyte.gz``.
        magic (int): 2049 for labels, 2051 for images.

    Returns:
        np.ndarray: (n,) labels or (n, rows, cols) images, uint8.

    Raises:
        ValueError: Wrong magic number or truncated data, naming the file.
    """
    with gzip.open(path, 'rb') as f:
        data = f.read()
    ndim = magic - 2048
    if len(data) < 4 + 4 * ndim or int.from_bytes(data[:4], 'big') != magic:
        raise ValueError(f'{path}: not an IDX file with magic {magic}')
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big')
            for i in range(ndim)]
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f'{path}: expected {dims} values, got {body.size}')
    return body.reshape(dims)


def fashion_sampler(split: str, root: str = FASHION_ROOT) -> ItemSampler:
    """Items of one Fashion-MNIST split (train: 60k photos, val: 10k)."""
    prefix = 'train' if split == 'train' else 't10k'
    images = read_idx(osp.join(root, f'{prefix}-images-idx3-ubyte.gz'), 2051)
    labels = read_idx(osp.join(root, f'{prefix}-labels-idx1-ubyte.gz'), 2049)
    if len(images) != len(labels):
        raise ValueError(f'{root}: {len(images)} {prefix} images but '
                         f'{len(labels)} labels')
    by_class = [np.flatnonzero(labels == k) for k in range(10)]

    def sample(rng: Rng, cls: int) -> np.ndarray:
        item = images[rng.choice(by_class[cls])]
        return np.repeat(item[:, :, None], 3, axis=2)

    return sample


def load_photo(spec: str) -> np.ndarray:
    """An RGB uint8 photo from ``'skimage:NAME'``, ``'sklearn:FILE'`` or
    ``'matplotlib:FILE'`` (files shipped inside those packages)."""
    package, name = spec.split(':')
    if package == 'skimage':
        import skimage.data
        image = getattr(skimage.data, name)()
    else:
        if package == 'sklearn':
            import sklearn.datasets
            folder = osp.join(osp.dirname(sklearn.datasets.__file__),
                              'images')
        else:
            import matplotlib
            folder = osp.join(matplotlib.get_data_path(), 'sample_data')
        path = osp.join(folder, name)
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f'could not read {path}')
        image = image[:, :, ::-1]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)


def split_region(image: np.ndarray, split: str) -> np.ndarray:
    """The train (first 65 %) or val (rest) part along the longer side."""
    axis = 0 if image.shape[0] > image.shape[1] else 1
    cut = int(round(image.shape[axis] * TRAIN_FRACTION))
    index = slice(0, cut) if split == 'train' else slice(cut, None)
    return image[index] if axis == 0 else image[:, index]


def photo_sampler(split: str) -> ItemSampler:
    """Random crops of one split's region of each photo.

    The crop side is 20-45 % of the whole photo's shorter side (the same
    scales in both splits), capped by the region's size.
    """
    photos = [load_photo(spec) for _, spec in PHOTO_SOURCES]
    regions = [split_region(p, split) for p in photos]
    short = [min(p.shape[:2]) for p in photos]

    def sample(rng: Rng, cls: int) -> np.ndarray:
        region = regions[cls]
        h, w = region.shape[:2]
        side = min(h, w, max(8, int(rng.uniform(0.2, 0.45) * short[cls])))
        y = rng.integers(0, h - side + 1)
        x = rng.integers(0, w - side + 1)
        crop = region[y:y + side, x:x + side]
        return crop[:, ::-1] if rng.random() < 0.5 else crop

    return sample


def draw_classes(rng: Rng, num_items: int, num_classes: int,
                 themes: Sequence[Sequence[int]]) -> List[int]:
    """Classes of one image's items: from a theme (p=0.75) or any class."""
    theme = themes[rng.integers(len(themes))]
    return [
        int(rng.choice(theme)) if rng.random() < THEME_PROB else int(
            rng.integers(num_classes)) for _ in range(num_items)
    ]


def compose_mosaic(rng: Rng, sampler: ItemSampler, num_classes: int,
                   themes: Sequence[Sequence[int]],
                   size: int) -> Tuple[np.ndarray, List[dict]]:
    """One mosaic (size, size, 3) and its items (class, bbox in xywh)."""
    grid = int(rng.choice((2, 3)))
    cell = size // grid
    num_items = int(rng.integers(1, grid * grid))
    cells = rng.permutation(grid * grid)[:num_items]
    canvas = np.zeros((size, size, 3), np.uint8)
    items = []
    for cls, c in zip(draw_classes(rng, num_items, num_classes, themes),
                      cells):
        y, x = divmod(int(c), grid)
        patch = cv2.resize(np.ascontiguousarray(sampler(rng, cls)),
                           (cell, cell), interpolation=cv2.INTER_AREA)
        canvas[y * cell:(y + 1) * cell, x * cell:(x + 1) * cell] = patch
        items.append(dict(cls=cls, bbox=[x * cell, y * cell, cell, cell]))
    return canvas, items


SOURCES = {
    'fashion-mnist': (FASHION_CLASSES, FASHION_THEMES, fashion_sampler, 84),
    'photos': (tuple(n for n, _ in PHOTO_SOURCES), PHOTO_THEMES,
               photo_sampler, 192),
}


def write_split(out_dir: str, source: str, split: str, num_images: int,
                seed: int) -> str:
    """Write one split's mosaics and COCO json; return the json path."""
    classes, themes, make_sampler, size = SOURCES[source]
    sampler = make_sampler(split)
    rng = np.random.default_rng([seed, SPLIT_IDS[split]])
    os.makedirs(osp.join(out_dir, split), exist_ok=True)
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    images, annotations = [], []
    for idx in range(num_images):
        canvas, items = compose_mosaic(rng, sampler, len(classes), themes,
                                       size)
        path = osp.join(out_dir, split, f'{idx:06d}.png')
        if not cv2.imwrite(path, canvas[:, :, ::-1]):
            raise OSError(f'could not write {path}')
        images.append(dict(id=idx + 1, file_name=osp.basename(path),
                           width=size, height=size))
        annotations += [
            dict(id=len(annotations) + i + 1, image_id=idx + 1,
                 category_id=item['cls'] + 1, bbox=item['bbox'],
                 area=item['bbox'][2] * item['bbox'][3], iscrowd=0)
            for i, item in enumerate(items)
        ]
    ann_file = osp.join(out_dir, 'annotations', f'instances_{split}.json')
    with open(ann_file, 'w') as f:
        json.dump(
            dict(info=dict(description=f'{source} mosaics', seed=seed,
                           split=split),
                 images=images,
                 annotations=annotations,
                 categories=[dict(id=i + 1, name=n)
                             for i, n in enumerate(classes)]), f)
    return ann_file


def generate(out_dir: str, source: str, num_train: int, num_val: int,
             seed: int = 0) -> Dict[str, str]:
    """Write both splits; return ``{'train': json, 'val': json}``."""
    if source not in SOURCES:
        raise ValueError(f'source must be one of {sorted(SOURCES)}, got '
                         f'{source!r}')
    return {
        split: write_split(out_dir, source, split, n, seed)
        for split, n in (('train', num_train), ('val', num_val))
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--source', choices=sorted(SOURCES), required=True)
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--num-train', type=int, default=2000)
    parser.add_argument('--num-val', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    files = generate(args.out, args.source, args.num_train, args.num_val,
                     args.seed)
    print('\n'.join(f'{k}: {v}' for k, v in files.items()))


if __name__ == '__main__':
    main()
