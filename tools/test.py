"""Evaluate a checkpoint: ``python tools/test.py CONFIG CKPT [options]``.

Prints the multi-label metrics table (mAP, CP, CR, CF1, OP, OR, OF1 for all
labels at threshold 0.5 and for the top-3 labels), or the configured metrics
(e.g. GAP, Hit@1, PERR, mAP for video), and can save predictions.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.runner import Runner  # noqa: E402

import mmcma  # noqa: E402,F401  (registers components, applies patches)
from mmcma.engine.checks import check_class_counts  # noqa: E402
from mmcma.engine.cli import (StrictLoadRunner,  # noqa: E402
                              add_common_args, exit_on_checkpoint_error,
                              load_config, parse_cli_args)
from mmcma.evaluation import format_metrics  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='save predictions (scores, targets, image paths, '
        'classes) to this .npz file')
    parser.add_argument(
        '--metrics-out', help='save the metrics dict to this .json file')
    parser.add_argument(
        '--non-strict', action='store_true',
        help='load a checkpoint that does not fit the config: tensors with '
        'no match keep their initial values (by default that is an error '
        'naming the missing, unexpected and mis-shaped tensors)')
    add_common_args(parser)
    return parse_cli_args(parser, argv)


@exit_on_checkpoint_error
def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.amp:
        cfg.test_cfg.fp16 = True
    if args.out:
        evaluator = cfg.test_evaluator
        evaluator = list(evaluator) if isinstance(evaluator, (list, tuple)) \
            else [evaluator]
        evaluator.append(dict(type='DumpMultiLabelPredictions',
                              out_file=args.out))
        cfg.test_evaluator = evaluator
    runner = (Runner if args.non_strict else StrictLoadRunner).from_cfg(cfg)
    check_class_counts(runner, 'test')
    if args.out:
        classes = runner.test_dataloader.dataset.metainfo.get('classes', ())
        runner.test_loop.evaluator.metrics[-1].classes = list(classes)
    metrics = runner.test()
    if runner.rank == 0:
        print(format_metrics(metrics))
        if args.metrics_out:
            with open(args.metrics_out, 'w') as f:
                json.dump(metrics, f, indent=2)
        if args.out:
            print(f'predictions saved to {args.out}')
    return metrics


if __name__ == '__main__':
    main()
