"""Export a trained multi-label image model to ONNX.

Usage::

    python tools/export_onnx.py CONFIG CHECKPOINT --out model.onnx \\
        [--input-size H W] [--thr 0.5 | --topk K] [--opset 17]

The model takes ``image``, float32 (batch, 3, H, W) normalised as the model's
data preprocessor does (RGB, ``(pixel - mean) / std``; the values are in the
model's metadata), and returns ``probabilities`` (batch, num_classes). The
batch size is dynamic; H and W come from the config's test pipeline
(``Resize``/``CenterCrop``) or ``--input-size``. Class names, the label rule
(thr or topk), input size, mean and std are in the model's
``metadata_props``; the label state (embeddings, graphs) is baked in as
constants. Needs ``pip install -e .[export]`` (onnx, onnxruntime).
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmcma  # noqa: E402,F401  (registers components, applies patches)
from mmcma.apis import init_model  # noqa: E402
from mmcma.apis.cli import add_model_args, apply_trust  # noqa: E402
from mmcma.engine.cli import exit_on_input_error  # noqa: E402
from mmcma.io import InputOptionError  # noqa: E402
from mmcma.apis.onnx_export import (OPSET, export_onnx,  # noqa: E402
                                    pipeline_input_size)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Export a multi-label image model to ONNX.')
    add_model_args(parser, ', stored in the metadata')
    parser.add_argument('--out', required=True, help='output .onnx file')
    parser.add_argument('--input-size', type=int, nargs=2, metavar=('H', 'W'),
                        help='input height and width (default: the test '
                        'pipeline\'s)')
    parser.add_argument('--opset', type=int, default=OPSET)
    return parser.parse_args(argv)


@exit_on_input_error
def main(argv: Optional[List[str]] = None) -> dict:
    """Entry point; returns the metadata written."""
    args = parse_args(argv)
    apply_trust(args)
    model = init_model(args.config, args.checkpoint,
                       cfg_options=args.cfg_options)
    size = args.input_size or pipeline_input_size(model._config)
    if size is None:
        raise InputOptionError(
            f'{args.config}: the test pipeline does not fix the image size '
            '(no Resize to a fixed scale or CenterCrop): give --input-size '
            'H W')
    selection = (dict(thr=args.thr) if args.thr is not None else
                 dict(topk=args.topk) if args.topk is not None else None)
    meta = export_onnx(model, args.out, size, selection, opset=args.opset)
    print(f'written: {args.out}')
    for key, value in meta.items():
        print(f'  {key}: {value if len(value) < 100 else value[:97] + "..."}')
    return meta


if __name__ == '__main__':
    main()
