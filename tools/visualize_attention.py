"""Show where an image-level attention head looks, label by label.

Usage::

    python tools/visualize_attention.py CONFIG CKPT IMAGE --out fig.png \\
        [--labels person car | --topk 3] [--per-scale]

The image goes through the config's test pipeline; the figure shows it and,
for each label (given, or the ``--topk`` best predicted), the label's
attention (eq. 8) over the image, as a multiple of uniform attention, with
the label's name and score: the mean over the scales of MS-CMA, or one row
per scale with ``--per-scale`` (:func:`mmcma.visualization.attention_figure`).
For many images at once use ``tools/infer.py --show-dir``.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmcma  # noqa: E402,F401  (registers the components)
from mmcma.apis import MultiLabelInferencer, init_model  # noqa: E402
from mmcma.apis.cli import add_config_options, exit_on_user_error  # noqa
from mmcma.apis.errors import (InferenceInputError,  # noqa: E402
                               InferenceTypeError, MissingInputError)
from mmcma.apis.model import check_servable  # noqa: E402
from mmcma.models.capabilities import model_capabilities  # noqa: E402
from mmcma.visualization import attention_figure, resolve_label  # noqa


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
    parser.add_argument('--per-scale', action='store_true',
                        help='one row per scale instead of their mean')
    add_config_options(parser)
    return parser.parse_args(argv)


def check_attention_model(model) -> None:
    """An image model whose head shows attention, else one sentence."""
    check_servable(model)
    if not model_capabilities(model).attention:
        raise InferenceTypeError(
            f'{type(model.head).__name__} shows no attention: use a config '
            'with an attention head (CMA, MS-CMA)')


@exit_on_user_error
def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.image):
        raise MissingInputError(f'image not found: {args.image}')
    model = init_model(args.config, args.checkpoint,
                       cfg_options=args.cfg_options,
                       check=check_attention_model)
    inferencer = MultiLabelInferencer(model)
    [pred] = inferencer(args.image, return_datasamples=True,
                        return_attention=True, topk=args.topk)
    scores = pred.pred_score.float().cpu().numpy()
    classes = inferencer.label_names(len(scores))
    try:
        labels = ([resolve_label(x, classes) for x in args.labels]
                  if args.labels else pred.pred_label.tolist())
    except ValueError as e:
        raise InferenceInputError(f'--labels: {e}') from None
    fig = attention_figure(pred.input_image, pred.attention, labels, scores,
                           classes, per_scale=args.per_scale,
                           title=osp.basename(args.image))
    fig.savefig(args.out, format='png')
    print(f'written: {args.out}')


if __name__ == '__main__':
    main()
