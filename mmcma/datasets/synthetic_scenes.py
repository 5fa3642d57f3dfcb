"""The embedded default dataset: small synthetic scenes in COCO format.

Each image is a scene (street, park or sea) under a sky. Objects are drawn
where they belong: sun, clouds, birds, airplanes and kites in the sky; cars,
traffic lights and houses along a street; trees, people and kites in a park;
boats on the waterline and fish below it. Which objects appear depends on the
scene and on each other (a kite comes with a person holding its string, a
traffic light with a car), so labels co-occur by design and sit in consistent
spatial context: the label graph and the attention heads have something real
to learn. Colours, sizes and positions vary, pixel noise is added, and a few
images hold no object at all.

The output is a COCO instances layout that :class:`CocoMultiLabel` reads::

    OUT/annotations/instances_train.json   OUT/train/000000.png ...
    OUT/annotations/instances_val.json     OUT/val/000000.png ...

Run ``python -m mmcma.datasets.synthetic_scenes --out data/scenes``.
"""
import argparse
import json
import os
import os.path as osp
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np

CLASSES = ('airplane', 'bird', 'boat', 'car', 'cloud', 'fish', 'house',
           'kite', 'person', 'sun', 'traffic light', 'tree')
SCENES = ('street', 'park', 'sea')

# Probability that each object appears, per scene. Conditional rules (kite
# needs a person, traffic lights come with cars) are applied in
# :func:`sample_labels`.
PRESENCE: Dict[str, Dict[str, float]] = {
    'street': dict(car=0.8, person=0.5, house=0.6, tree=0.25, bird=0.15,
                   sun=0.35, cloud=0.45, airplane=0.12),
    'park': dict(tree=0.85, person=0.65, house=0.15, bird=0.45, sun=0.45,
                 cloud=0.4, airplane=0.08),
    'sea': dict(boat=0.8, fish=0.6, bird=0.4, sun=0.5, cloud=0.45,
                airplane=0.15),
}
EMPTY_PROB = 0.03
SPLIT_IDS = dict(train=0, val=1)

Color = Tuple[int, int, int]
Rng = np.random.Generator


def _jitter(rng: Rng, color: Color, amount: int = 25) -> Color:
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255))
                 for c in color)


def sample_labels(rng: Rng, scene: str) -> List[str]:
    """Draw the objects of one scene, with the co-occurrence rules."""
    labels = [n for n, p in PRESENCE[scene].items() if rng.random() < p]
    if scene == 'street' and 'car' in labels and rng.random() < 0.6:
        labels.append('traffic light')
    if scene == 'street' and 'car' not in labels and rng.random() < 0.1:
        labels.append('traffic light')
    if scene == 'park' and 'person' in labels and rng.random() < 0.55:
        labels.append('kite')
    return labels


class SceneCanvas:
    """Draws one scene and records each object's box and area.

    Each object is drawn twice: on the image and on an empty mask, so that its
    bounding box and area are exact whatever its shape.
    """

    def __init__(self, rng: Rng, size: int, scene: str):
        self.rng = rng
        self.size = size
        self.scene = scene
        self.horizon = int(size * rng.uniform(0.42, 0.55))
        self.image = np.zeros((size, size, 3), np.uint8)
        sky = _jitter(rng, (235, 206, 135))  # BGR light blue
        ground = dict(street=(110, 110, 110), park=(60, 160, 70),
                      sea=(150, 90, 30))[scene]
        self.image[:self.horizon] = sky
        self.image[self.horizon:] = _jitter(rng, ground, 15)
        if scene == 'street':  # kerb line separates pavement from road
            y = self.horizon + (size - self.horizon) // 3
            cv2.line(self.image, (0, y), (size, y), (200, 200, 200), 1)
        self.objects: List[dict] = []
        self._mask = np.zeros((size, size), np.uint8)

    def s(self, frac: float) -> int:
        """A length as a fraction of the image size, at least one pixel."""
        return max(1, int(round(frac * self.size)))

    def add(self, name: str, draw: Callable[[np.ndarray, object], None]):
        """Draw with ``draw(img, color_or_255)`` and store the box."""
        self._mask[:] = 0
        draw(self.image, None)
        draw(self._mask, 255)
        ys, xs = np.nonzero(self._mask)
        if len(xs) == 0:
            return
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        self.objects.append(
            dict(name=name,
                 bbox=[int(x0), int(y0), int(x1 - x0), int(y1 - y0)],
                 area=int(len(xs))))

    def sky_point(self) -> Tuple[int, int]:
        r = self.rng
        return (int(r.integers(self.s(0.08), self.size - self.s(0.08))),
                int(r.integers(self.s(0.06), max(self.s(0.07),
                                                 self.horizon - self.s(0.1)))))

    def ground_point(self, lo: float = 0.15, hi: float = 0.85):
        r = self.rng
        g = self.size - self.horizon
        return (int(r.integers(self.s(0.1), self.size - self.s(0.1))),
                self.horizon + int(g * r.uniform(lo, hi)))


def _pick(rng: Rng, colors: List[Color]) -> Color:
    return _jitter(rng, colors[int(rng.integers(len(colors)))])


def _c(color, value):
    return color if value is None else value


def draw_object(cv: SceneCanvas, name: str, anchor=None) -> Tuple[int, int]:
    """Draw object ``name`` in its place in the scene; return its anchor."""
    r, s, aa = cv.rng, cv.s, cv2.LINE_AA
    if name == 'sun':
        (x, y), rad = cv.sky_point(), s(r.uniform(0.06, 0.1))
        col = _jitter(r, (40, 210, 250))
        cv.add(name, lambda im, v: cv2.circle(im, (x, y), rad, _c(col, v), -1,
                                              aa))
    elif name == 'cloud':
        (x, y), rad = cv.sky_point(), s(r.uniform(0.04, 0.06))
        col = _jitter(r, (245, 245, 245), 10)

        def cloud(im, v):
            for dx in (-rad, 0, rad):
                cv2.circle(im, (x + dx, y), rad, _c(col, v), -1, aa)
            cv2.circle(im, (x, y - rad // 2), rad, _c(col, v), -1, aa)
        cv.add(name, cloud)
    elif name == 'bird':
        (x, y), w = cv.sky_point(), s(r.uniform(0.04, 0.07))
        col = _jitter(r, (40, 40, 40), 20)
        pts = np.array([[x - w, y - w // 2], [x, y], [x + w, y - w // 2]])
        cv.add(name, lambda im, v: cv2.polylines(im, [pts], False, _c(col, v),
                                                 max(1, s(0.02)), aa))
    elif name == 'airplane':
        (x, y), w = cv.sky_point(), s(r.uniform(0.08, 0.12))
        col = _pick(r, [(200, 200, 200), (230, 230, 230), (150, 150, 170)])

        def plane(im, v):
            cv2.ellipse(im, (x, y), (w, max(1, w // 4)), 0, 0, 360,
                        _c(col, v), -1, aa)
            wing = np.array([[x - w // 4, y], [x + w // 6, y],
                             [x - w // 2, y + w // 2 + 1]])
            cv2.fillPoly(im, [wing], _c(col, v), aa)
            tail = np.array([[x + w - w // 4, y], [x + w, y],
                             [x + w, y - w // 2 - 1]])
            cv2.fillPoly(im, [tail], _c(col, v), aa)
        cv.add(name, plane)
    elif name == 'kite':
        hx, hy = anchor if anchor is not None else cv.ground_point()
        x = int(np.clip(hx + r.integers(-s(0.2), s(0.2) + 1), s(0.08),
                        cv.size - s(0.08)))
        y = int(r.integers(s(0.08), max(s(0.09), cv.horizon - s(0.12))))
        w = s(r.uniform(0.05, 0.08))
        col = _pick(r, [(30, 30, 220), (0, 140, 255), (200, 40, 180)])
        pts = np.array([[x, y - w], [x + w * 2 // 3, y], [x, y + w],
                        [x - w * 2 // 3, y]])

        def kite(im, v):
            cv2.fillPoly(im, [pts], _c(col, v), aa)
            cv2.line(im, (x, y + w), (hx, hy), _c((90, 90, 90), v), 1, aa)
        cv.add(name, kite)
    elif name == 'person':
        x, y = cv.ground_point(0.3, 0.9)
        h = s(r.uniform(0.16, 0.22))
        col = _pick(r, [(60, 60, 160), (160, 60, 60), (40, 40, 40),
                        (60, 140, 200)])
        skin = _jitter(r, (140, 170, 220))

        def person(im, v):
            t = max(1, s(0.02))
            cv2.circle(im, (x, y - h), max(1, h // 6), _c(skin, v), -1, aa)
            cv2.line(im, (x, y - h + h // 6), (x, y - h // 3), _c(col, v), t,
                     aa)
            cv2.line(im, (x, y - h // 3), (x - h // 5, y), _c(col, v), t, aa)
            cv2.line(im, (x, y - h // 3), (x + h // 5, y), _c(col, v), t, aa)
            cv2.line(im, (x - h // 4, y - h * 2 // 3),
                     (x + h // 4, y - h * 2 // 3), _c(col, v), t, aa)
        cv.add(name, person)
        return x + h // 4, y - h * 2 // 3
    elif name == 'tree':
        x, y = cv.ground_point(0.1, 0.6)
        h = s(r.uniform(0.2, 0.3))
        leaf = _jitter(r, (40, 130, 30), 20)

        def tree(im, v):
            cv2.rectangle(im, (x - max(1, h // 12), y - h // 3),
                          (x + max(1, h // 12), y), _c((30, 60, 100), v), -1)
            cv2.circle(im, (x, y - h * 2 // 3), max(2, h // 3), _c(leaf, v),
                       -1, aa)
        cv.add(name, tree)
    elif name == 'house':
        x, y = cv.ground_point(0.05, 0.3)
        w = s(r.uniform(0.14, 0.2))
        wall = _pick(r, [(180, 200, 230), (90, 120, 200), (200, 200, 200)])
        roof = _pick(r, [(30, 30, 150), (60, 60, 60)])

        def house(im, v):
            cv2.rectangle(im, (x - w // 2, y - w), (x + w // 2, y),
                          _c(wall, v), -1)
            pts = np.array([[x - w // 2 - 1, y - w], [x + w // 2 + 1, y - w],
                            [x, y - w - w // 2]])
            cv2.fillPoly(im, [pts], _c(roof, v), aa)
        cv.add(name, house)
    elif name == 'car':
        x, y = cv.ground_point(0.45, 0.9)
        w = s(r.uniform(0.14, 0.2))
        col = _pick(r, [(40, 40, 200), (200, 80, 40), (40, 180, 220),
                        (230, 230, 230), (30, 30, 30)])

        def car(im, v):
            cv2.rectangle(im, (x - w // 2, y - w // 3), (x + w // 2, y),
                          _c(col, v), -1)
            cv2.rectangle(im, (x - w // 4, y - w // 2), (x + w // 4,
                                                          y - w // 3),
                          _c(col, v), -1)
            for dx in (-w // 3, w // 3):
                cv2.circle(im, (x + dx, y), max(1, w // 8),
                           _c((20, 20, 20), v), -1, aa)
        cv.add(name, car)
    elif name == 'traffic light':
        x, y = cv.ground_point(0.25, 0.45)
        h = s(r.uniform(0.2, 0.26))

        def light(im, v):
            cv2.line(im, (x, y), (x, y - h // 2), _c((50, 50, 50), v),
                     max(1, s(0.015)))
            cv2.rectangle(im, (x - max(1, h // 8), y - h),
                          (x + max(1, h // 8), y - h // 2),
                          _c((25, 25, 25), v), -1)
            for k, lamp in enumerate([(0, 0, 230), (0, 200, 230),
                                      (0, 200, 0)]):
                cv2.circle(im, (x, y - h + h // 12 + k * h // 6),
                           max(1, h // 16), _c(lamp, v), -1, aa)
        cv.add(name, light)
    elif name == 'boat':
        x = int(r.integers(s(0.15), cv.size - s(0.15)))
        y = cv.horizon + s(0.04)
        w = s(r.uniform(0.14, 0.2))
        hull = _jitter(r, (30, 70, 120), 20)

        def boat(im, v):
            pts = np.array([[x - w // 2, y - w // 5], [x + w // 2, y - w // 5],
                            [x + w // 3, y], [x - w // 3, y]])
            cv2.fillPoly(im, [pts], _c(hull, v), aa)
            sail = np.array([[x, y - w // 5], [x, y - w], [x + w // 3,
                                                          y - w // 5]])
            cv2.fillPoly(im, [sail], _c((240, 240, 240), v), aa)
        cv.add(name, boat)
    elif name == 'fish':
        x, y = cv.ground_point(0.35, 0.9)
        w = s(r.uniform(0.06, 0.1))
        col = _pick(r, [(0, 120, 250), (0, 200, 250), (180, 100, 220)])

        def fish(im, v):
            cv2.ellipse(im, (x, y), (w, max(1, w // 2)), 0, 0, 360,
                        _c(col, v), -1, aa)
            tail = np.array([[x + w, y], [x + w + w // 2, y - w // 2],
                             [x + w + w // 2, y + w // 2]])
            cv2.fillPoly(im, [tail], _c(col, v), aa)
        cv.add(name, fish)
    else:
        raise KeyError(f'unknown object {name!r}')
    return None


def render_scene(rng: Rng, size: int) -> Tuple[np.ndarray, List[dict]]:
    """Render one random scene; return the BGR image and its objects."""
    scene = SCENES[int(rng.integers(len(SCENES)))]
    canvas = SceneCanvas(rng, size, scene)
    labels = [] if rng.random() < EMPTY_PROB else sample_labels(rng, scene)
    # Ground objects far away first, sky last; kites follow their holder.
    order = ['house', 'tree', 'traffic light', 'boat', 'fish', 'car',
             'person', 'sun', 'cloud', 'airplane', 'bird', 'kite']
    hand = None
    for name in order:
        if name not in labels:
            continue
        count = 1 + int(rng.random() < 0.25) if name in (
            'bird', 'cloud', 'person', 'tree', 'fish') else 1
        for _ in range(count):
            anchor = draw_object(canvas, name, hand if name == 'kite' else None)
            if name == 'person' and hand is None:
                hand = anchor
    noise = rng.normal(0, 6, canvas.image.shape)
    image = np.clip(canvas.image.astype(np.float32) + noise, 0,
                    255).astype(np.uint8)
    return image, canvas.objects


def write_split(out_dir: str, split: str, num_images: int, size: int,
                seed: int) -> str:
    """Write ``num_images`` scenes of one split; return the json path."""
    rng = np.random.default_rng([seed, SPLIT_IDS[split]])
    img_dir = osp.join(out_dir, split)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    cat_id = {n: i + 1 for i, n in enumerate(CLASSES)}
    images, annotations = [], []
    for idx in range(num_images):
        image, objects = render_scene(rng, size)
        file_name = f'{idx:06d}.png'
        if not cv2.imwrite(osp.join(img_dir, file_name), image):
            raise OSError(f'could not write {osp.join(img_dir, file_name)}')
        images.append(dict(id=idx + 1, file_name=file_name, width=size,
                           height=size))
        for obj in objects:
            annotations.append(
                dict(id=len(annotations) + 1, image_id=idx + 1,
                     category_id=cat_id[obj['name']], bbox=obj['bbox'],
                     area=obj['area'], iscrowd=0, segmentation=[]))
    data = dict(
        info=dict(description='mmcma synthetic scenes', seed=seed,
                  split=split, size=size),
        images=images,
        annotations=annotations,
        categories=[
            dict(id=cat_id[n], name=n, supercategory='scene-object')
            for n in CLASSES
        ])
    ann_file = osp.join(out_dir, 'annotations', f'instances_{split}.json')
    with open(ann_file, 'w') as f:
        json.dump(data, f)
    return ann_file


def generate(out_dir: str,
             num_train: int = 600,
             num_val: int = 200,
             size: int = 64,
             seed: int = 0) -> Dict[str, str]:
    """Write the train and val splits; return their annotation files.

    Args:
        out_dir (str): Output folder.
        num_train (int): Number of training images.
        num_val (int): Number of validation images.
        size (int): Image side in pixels (>= 32).
        seed (int): Seed; the same arguments give byte-identical files.

    Returns:
        dict: ``{'train': json_path, 'val': json_path}``.
    """
    if size < 32:
        raise ValueError(f'size must be at least 32 pixels, got {size}')
    if num_train < 1 or num_val < 1:
        raise ValueError('num_train and num_val must be positive')
    return {
        split: write_split(out_dir, split, n, size, seed)
        for split, n in (('train', num_train), ('val', num_val))
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/scenes', help='output folder')
    parser.add_argument('--num-train', type=int, default=600)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--size', type=int, default=64, help='image side')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    files = generate(args.out, args.num_train, args.num_val, args.size,
                     args.seed)
    for split, path in files.items():
        print(f'{split}: {path}')


if __name__ == '__main__':
    main()
