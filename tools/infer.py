"""Predict the labels of images with a trained multi-label model.

Usage::

    python tools/infer.py CONFIG CHECKPOINT INPUT [INPUT ...] \\
        [--thr 0.5 | --topk K] [--batch-size 8] [--out results.json] \\
        [--show-dir DIR [--per-scale]] [--patches K] [--device cpu]

INPUT is an image file or a folder (searched recursively for images) of any
size: the config's test pipeline resizes each image to the size the model
was trained at. Prints one line per image (its labels with scores); ``--out``
writes them as JSON (:func:`mmcma.apis.to_json`); ``--show-dir`` writes one
figure per image (names that repeat across folders get a ``_<n>`` suffix):
the attention grid for attention heads (CMA, MS-CMA), the best object and
context patch of each of the K best labels for spatial-context models
(``--patches K``, 5 by default; they also go into ``--out``), the image and
its best labels otherwise. A bad file, option or config ends the tool with a
one-line ``error: ...`` naming it.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmcma  # noqa: E402,F401  (registers components, applies patches)
from mmcma.apis import (MultiLabelInferencer, init_model,  # noqa: E402
                        to_json)
from mmcma.apis.cli import (add_model_args, apply_trust,  # noqa: E402
                            exit_on_user_error)
from mmcma.apis.errors import InferenceInputError  # noqa: E402
from mmcma.apis.model import check_servable  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Multi-label inference on image files and folders.')
    add_model_args(parser, 'are predicted')
    parser.add_argument('inputs', nargs='+', metavar='INPUT',
                        help='image files or folders')
    parser.add_argument('--batch-size', type=int, default=8,
                        help='images per forward pass (default: 8)')
    parser.add_argument('--out', help='write the results to this JSON file')
    parser.add_argument('--show-dir', help='write one figure per image here')
    parser.add_argument('--per-scale', action='store_true',
                        help='attention figures: one row per scale instead '
                        'of the mean of the scales')
    parser.add_argument('--patches', type=int, metavar='K',
                        help='spatial-context models: report (in --out) and '
                        'draw (in --show-dir) the best patch of each of the '
                        'K best labels (default: 5 with --show-dir)')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    return parser.parse_args(argv)


def check_out(out: Optional[str]) -> None:
    """``--out`` must name a file, not a folder."""
    if out is not None and (osp.isdir(out) or out.endswith(os.sep)):
        raise InferenceInputError(f'--out must be a JSON file path, got the '
                                  f'folder {out}')


@exit_on_user_error
def main(argv: Optional[List[str]] = None) -> list:
    """Entry point; returns the inferencer's results."""
    args = parse_args(argv)
    apply_trust(args)
    check_out(args.out)
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options, check=check_servable)
    inferencer = MultiLabelInferencer(model)
    selection = inferencer.selection(args.thr, args.topk)
    results = inferencer(args.inputs, batch_size=args.batch_size,
                         show_dir=args.show_dir, per_scale=args.per_scale,
                         patches=args.patches, **selection)
    classes = inferencer.label_names(len(results[0]['pred_scores']))
    for r in results:
        labels = ', '.join(f'{c} {s:.2f}' for c, s in zip(
            r['pred_classes'], r['pred_label_scores'])) or '-'
        print(f'{r["image"]}: {labels}')
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(to_json(results, classes, selection), f, indent=1)
        print(f'written: {args.out} ({len(results)} images)')
    if args.show_dir:
        print(f'figures: {args.show_dir}')
    return results


if __name__ == '__main__':
    main()
