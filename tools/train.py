"""Train a model from a config: ``python tools/train.py CONFIG [options]``."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.runner import Runner  # noqa: E402

import mmcma  # noqa: E402,F401  (registers components, applies patches)
from mmcma.engine.checks import check_class_counts  # noqa: E402
from mmcma.engine.cli import (StrictLoadRunner,  # noqa: E402
                              add_common_args, add_non_strict_arg,
                              exit_on_input_error, load_config,
                              parse_cli_args)
from mmcma.io import InputOptionError, MissingFileError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        help='resume from this checkpoint, or (no value) from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--load-from',
        help='start from the weights of this checkpoint (epoch 0, a new '
        'optimizer); the config key load_from does the same')
    add_non_strict_arg(parser)
    parser.add_argument(
        '--no-validate', action='store_true',
        help='skip validation during training')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the lr by the actual total batch size over the '
        "config's auto_scale_lr.base_batch_size")
    parser.add_argument(
        '--no-persistent-workers', action='store_true',
        help='set persistent_workers=False in the dataloaders')
    add_common_args(parser)
    args = parse_cli_args(parser, argv)
    if args.resume is not None and args.load_from is not None:
        parser.error('give --resume or --load-from, not both: --resume '
                     'continues a run (weights, optimizer, epoch), '
                     '--load-from starts a new one from the weights')
    return args


@exit_on_input_error
def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise MissingFileError(f'--resume checkpoint not found: '
                                   f'{args.resume}')
        cfg.resume, cfg.load_from = True, args.resume
    elif args.load_from is not None:
        if not osp.isfile(args.load_from):
            raise MissingFileError(f'--load-from checkpoint not found: '
                                   f'{args.load_from}')
        cfg.resume, cfg.load_from = False, args.load_from
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise InputOptionError('--auto-scale-lr needs auto_scale_lr.'
                                   'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    # A checkpoint to resume from or load must fit the model (as in
    # tools/test.py); --non-strict keeps mmengine's warnings instead.
    runner = (Runner if args.non_strict else StrictLoadRunner).from_cfg(cfg)
    check_class_counts(runner, 'train')
    runner.train()


if __name__ == '__main__':
    main()
