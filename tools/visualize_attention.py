"""Show where an image-level attention head looks, label by label.

Usage::

    python tools/visualize_attention.py CONFIG CKPT IMAGE --out fig.png \\
        [--labels person car] [--topk 3]

The image goes through the config's test pipeline; the figure shows it and,
for each label (given, or the ``--topk`` best predicted) and each scale of
the head, the label's attention map (eq. 8) over the image.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dataset import Compose, pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpretrain.apis import get_model  # noqa: E402

import mmcma  # noqa: E402,F401  (registers the components)
from mmcma.visualization import plot_image_attention, resolve_label  # noqa


def image_attention(model, data: dict) -> Tuple[List[np.ndarray], np.ndarray]:
    """Attention maps per scale and class probabilities for one image.

    Args:
        model: An ``ImageClassifier`` in eval mode whose head has
            ``get_attention`` (``CMAHead``, ``MSCMAHead``).
        data (dict): Output of the test pipeline (``inputs``,
            ``data_samples``).

    Returns:
        tuple: A list with one (N, h, w) array per scale, and (N,)
        probabilities.
    """
    if not hasattr(model.head, 'get_attention'):
        raise TypeError(f'{type(model.head).__name__} has no get_attention: '
                        'use a config with an attention head')
    batch = model.data_preprocessor(pseudo_collate([data]))
    with torch.no_grad():
        feats = model.extract_feat(batch['inputs'])
        maps = model.head.get_attention(feats)
        scores = model.head.predict(feats)[0].pred_score
    return [m[0].cpu().numpy() for m in maps], scores.cpu().numpy()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Plot per-label attention maps of one image.')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('image', help='image file')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument('--labels', nargs='+',
                        help='class names or indices (default: top-k)')
    parser.add_argument('--topk', type=int, default=3,
                        help='predicted labels shown without --labels')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.image):
        raise FileNotFoundError(f'image not found: {args.image}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = get_model(cfg, pretrained=args.checkpoint, device='cpu').eval()
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    data = pipeline(dict(img_path=args.image))
    maps, scores = image_attention(model, data)

    # Class names from the checkpoint's dataset meta (set by get_model).
    classes = list(model._dataset_meta.get('classes')
                   or [str(i) for i in range(len(scores))])
    labels = ([resolve_label(x, classes) for x in args.labels] if args.labels
              else np.argsort(-scores, kind='stable')[:args.topk].tolist())
    panels = [(f'{classes[k]} ({scores[k]:.2f})' +
               (f', scale {s + 1}' if len(maps) > 1 else ''), m[k])
              for k in labels for s, m in enumerate(maps)]
    image = data['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # BGR->RGB
    plot_image_attention(np.ascontiguousarray(image), panels, args.out,
                         title=osp.basename(args.image))
    print(f'written: {args.out}')


if __name__ == '__main__':
    main()
