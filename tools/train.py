"""Train a model from a config: ``python tools/train.py CONFIG [options]``."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.runner import Runner  # noqa: E402

import mmcma  # noqa: E402,F401  (registers components, applies patches)
from mmcma.engine.checks import check_class_counts  # noqa: E402
from mmcma.engine.cli import (add_common_args,  # noqa: E402
                              exit_on_checkpoint_error, load_config,
                              parse_cli_args)


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
    return parse_cli_args(parser, argv)


@exit_on_checkpoint_error
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
            raise FileNotFoundError(f'--resume checkpoint not found: '
                                    f'{args.resume}')
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise ValueError('--auto-scale-lr needs auto_scale_lr.'
                             'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    runner = Runner.from_cfg(cfg)
    check_class_counts(runner, 'train')
    runner.train()


if __name__ == '__main__':
    main()
