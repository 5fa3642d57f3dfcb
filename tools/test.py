"""Evaluate a checkpoint: ``python tools/test.py CONFIG CKPT [options]``.

Prints the papers' multi-label metrics table (mAP, CP, CR, CF1, OP, OR, OF1
as ML-GCN's evaluation defines them, for all labels at threshold 0.5 and for
the top-3 labels), or the configured metrics (e.g. GAP, Hit@1, PERR, mAP for
video), and can save predictions. The flags are mmpretrain's (``--out``,
``--out-item``, ``--show-dir``, ``--tta``, ...) plus mmcma's
``--non-strict``, ``--trust-checkpoint``, ``--metrics-out``,
``--per-class-ap`` and the ``.npz`` format of ``--out``.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmengine  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmcma  # noqa: E402,F401  (registers components, applies patches)
from mmcma.engine.checks import check_class_counts  # noqa: E402
from mmcma.engine.cli import (StrictLoadRunner,  # noqa: E402
                              add_common_args, add_non_strict_arg,
                              exit_on_input_error, load_config,
                              parse_cli_args)
from mmcma.io import MissingFileError  # noqa: E402
from mmcma.engine.tool_options import (add_prediction_dump,  # noqa: E402
                                       apply_tta, apply_visualization,
                                       enable_per_class_ap, out_problem,
                                       per_class_problem, save_per_class_ap)
from mmcma.evaluation import (DumpMultiLabelPredictions,  # noqa: E402
                              format_metrics)
from mmcma.evaluation.table import format_per_class_ap  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='save the predictions (or, with --out-item metrics, '
        'the metrics) to this file: .npz = scores, targets, image paths and '
        'classes as plain arrays (np.load, no pickle); .pkl / .pickle = '
        "mmpretrain's list of per-sample dicts for mmengine.load, which "
        'unpickles (load only files you wrote)')
    parser.add_argument(
        '--out-item', choices=['metrics', 'pred'],
        help='what --out saves: pred (default) or metrics (.json / .yaml / '
        '.pkl)')
    parser.add_argument(
        '--metrics-out', help='save the metrics dict to this .json file')
    parser.add_argument(
        '--per-class-ap', nargs='?', const='', metavar='FILE',
        help='also print the AP of every label with its class name (the '
        "papers' per-class tables) and, with FILE, save it (.csv or .json)")
    parser.add_argument(
        '--show-dir', help='draw every --interval-th test image with its '
        'label scores into this folder')
    parser.add_argument(
        '--show', action='store_true',
        help='show the drawn predictions in a window')
    parser.add_argument(
        '--interval', type=int, default=1,
        help='draw one sample in INTERVAL (default 1: all)')
    parser.add_argument(
        '--wait-time', type=float, default=2,
        help='seconds each --show window stays (default 2)')
    parser.add_argument(
        '--tta', action='store_true',
        help="test-time augmentation: the config's tta_model and "
        'tta_pipeline, else the mean probability of the image and its '
        'horizontal flip')
    add_non_strict_arg(parser)
    add_common_args(parser)
    args = parse_cli_args(parser, argv)
    problem = out_problem(args.out, args.out_item)
    if problem:
        parser.error(problem)
    problem = per_class_problem(args.per_class_ap)
    if problem:
        parser.error(problem)
    if args.interval < 1:
        parser.error(f'--interval must be >= 1, got {args.interval}')
    return args


@exit_on_input_error
def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise MissingFileError(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.amp:
        cfg.test_cfg.fp16 = True
    if args.show or args.show_dir:
        apply_visualization(cfg, args.show_dir, args.show, args.interval,
                            args.wait_time)
    if args.tta:
        apply_tta(cfg)
    if args.per_class_ap is not None:
        try:
            enable_per_class_ap(cfg)
        except ValueError as e:
            sys.exit(f"error: {e}")
    save_metrics = args.out is not None and args.out_item == 'metrics'
    if args.out is not None and not save_metrics:
        add_prediction_dump(cfg, args.out)
    runner = (Runner if args.non_strict else StrictLoadRunner).from_cfg(cfg)
    check_class_counts(runner, 'test')
    for metric in runner.test_loop.evaluator.metrics:
        if isinstance(metric, DumpMultiLabelPredictions):
            metric.classes = list(
                runner.test_dataloader.dataset.metainfo.get('classes', ()))
    metrics = runner.test()
    if runner.rank == 0:
        print(format_metrics(metrics))
        if args.per_class_ap is not None:
            classes = runner.test_dataloader.dataset.metainfo['classes']
            ap = metrics['multi-label/AP_per_class']
            print(format_per_class_ap(ap, classes))
            if args.per_class_ap:
                save_per_class_ap(args.per_class_ap, classes, ap)
                print(f'per-class AP saved to {args.per_class_ap}')
        if args.metrics_out:
            with open(args.metrics_out, 'w') as f:
                json.dump(metrics, f, indent=2)
        if save_metrics:
            mmengine.dump(metrics, args.out)
        if args.out:
            what = 'metrics' if save_metrics else 'predictions'
            print(f'{what} saved to {args.out}')
    return metrics


if __name__ == '__main__':
    main()
