"""Training-step cost of the CMA and MS-CMA heads against a linear head.

Builds three mmpretrain ``ImageClassifier`` models on the same backbone:

* ``linear``: GlobalAveragePooling + MultiLabelLinearClsHead (baseline);
* ``cma``: CMTNeck + CMAHead on the last stage;
* ``ms-cma``: CMTNeck (two stages + extra stage) + MSCMAHead;

and times one training step (forward, loss, backward, SGD step) of each,
interleaving the models within every repetition (the order rotates) so that
load drift on a shared machine hits all of them alike. It reports median
step times, the median of the per-repetition ratios to the baseline,
parameter counts, and per-image FLOPs of neck + head counted by
``mmengine.analysis.FlopAnalyzer`` (one multiply-add = one FLOP).

Full steps are slow and noisy on a shared CPU, so the neck + head alone are
also timed (forward + backward on fixed backbone maps, many interleaved
repetitions); ``estimated ratio`` adds their extra time over the linear
head to the baseline's full step.

Example::

    python benchmarks/bench_heads.py --depth 50 --img-size 224 \
        --batch-size 8 --reps 5 --threads 2
"""
import argparse
import statistics
import time
from functools import partial
from typing import Callable, Dict, List

import torch
from mmengine.analysis import FlopAnalyzer
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmcma.models.heads  # noqa: F401  (registers the heads)
import mmcma.models.losses  # noqa: F401  (registers the loss)
import mmcma.models.necks  # noqa: F401  (registers the neck)
from mmcma.models import label_state_requirements

STAGE_CHANNELS = {
    18: (256, 512),
    34: (256, 512),
    50: (1024, 2048),
    101: (1024, 2048)
}


def model_configs(depth: int, num_classes: int, reduced: int, embed_dim: int,
                  extra: int) -> Dict[str, dict]:
    """ImageClassifier configs of the three variants."""
    c4, c5 = STAGE_CHANNELS[depth]

    def backbone(out_indices):
        return dict(type='ResNet', depth=depth, out_indices=out_indices)

    cmt = dict(type='CMTNeck',
               reduced_channels=reduced,
               embed_dim=embed_dim,
               cmt_channels=(embed_dim, ))
    return {
        'linear':
        dict(type='ImageClassifier',
             backbone=backbone((3, )),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='MultiLabelLinearClsHead',
                       num_classes=num_classes,
                       in_channels=c5)),
        'cma':
        dict(type='ImageClassifier',
             backbone=backbone((3, )),
             neck=dict(cmt, in_channels=c5),
             head=dict(type='CMAHead',
                       num_classes=num_classes,
                       in_channels=reduced,
                       embed_dim=embed_dim)),
        'ms-cma':
        dict(type='ImageClassifier',
             backbone=backbone((2, 3)),
             neck=dict(cmt,
                       in_channels=(c4, c5),
                       extra_stage=dict(out_channels=extra)),
             head=dict(type='MSCMAHead',
                       num_classes=num_classes,
                       in_channels=(reduced, ) * 3,
                       embed_dim=embed_dim)),
    }


def build(cfg: dict, num_classes: int, embed_dim: int) -> torch.nn.Module:
    model = MODELS.build(cfg)
    # Random embeddings: only the step time is measured here.
    if 'embedding' in label_state_requirements(model):
        model.head.set_label_state('embedding',
                                   torch.randn(num_classes, embed_dim))
    return model


def count_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_flops(module: torch.nn.Module, img_size: int) -> int:
    """Per-image FLOPs of ``module`` in eval mode (batch of one)."""
    module.eval()
    image = torch.randn(1, 3, img_size, img_size)
    analyzer = FlopAnalyzer(module, (image, ))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    flops = analyzer.total()
    module.train()
    return flops


def train_step(model, optimizer, inputs, samples) -> float:
    """Seconds of one forward + loss + backward + SGD step."""
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    loss = model(inputs, samples, mode='loss')['loss']
    loss.backward()
    optimizer.step()
    return time.perf_counter() - start


def neck_head_step(model, feats, samples) -> float:
    """Seconds of neck + head forward and backward on fixed backbone maps.

    The backward pass runs down to the backbone maps (as in training).
    """
    feats = tuple(f.detach().requires_grad_() for f in feats)
    start = time.perf_counter()
    loss = model.head.loss(model.neck(feats), samples)['loss']
    loss.backward()
    return time.perf_counter() - start


def interleaved(steps: Dict[str, Callable[[], float]], reps: int,
                warmup: int) -> Dict[str, List[float]]:
    """Time every step once per repetition, rotating the order."""
    names = list(steps)
    times: Dict[str, List[float]] = {k: [] for k in names}
    for rep in range(warmup + reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed = steps[name]()
            if rep >= warmup:
                times[name].append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--depth', type=int, default=50)
    parser.add_argument('--img-size', type=int, default=224)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--num-classes', type=int, default=80)
    parser.add_argument('--reduced-channels', type=int, default=512)
    parser.add_argument('--embed-dim', type=int, default=256)
    parser.add_argument('--extra-channels', type=int, default=512)
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--head-reps', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfgs = model_configs(args.depth, args.num_classes, args.reduced_channels,
                         args.embed_dim, args.extra_channels)
    models = {
        k: build(c, args.num_classes, args.embed_dim)
        for k, c in cfgs.items()
    }
    backbone_params = count_params(models['linear'].backbone)
    backbone_flops = count_flops(models['linear'].backbone, args.img_size)
    extra = {
        name: (count_params(m) - backbone_params,
               count_flops(m, args.img_size) - backbone_flops)
        for name, m in models.items()
    }

    inputs = torch.randn(args.batch_size, 3, args.img_size, args.img_size)
    samples = [
        DataSample().set_gt_label(
            torch.randperm(args.num_classes)[:3].tolist())
        for _ in range(args.batch_size)
    ]
    optims = {
        k: torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9)
        for k, m in models.items()
    }
    full = interleaved(
        {
            k: partial(train_step, m, optims[k], inputs, samples)
            for k, m in models.items()
        }, args.reps, args.warmup)
    with torch.no_grad():
        maps = {k: m.backbone(inputs) for k, m in models.items()}
    heads = interleaved(
        {
            k: partial(neck_head_step, m, maps[k], samples)
            for k, m in models.items()
        }, args.head_reps, args.warmup)

    print(f'ResNet-{args.depth}, {args.img_size} px, batch '
          f'{args.batch_size}, {args.num_classes} classes, '
          f'{args.threads} threads; full steps: {args.reps} reps, neck+head '
          f'steps: {args.head_reps} reps (+{args.warmup} warm-up each)')
    print(f'backbone: {backbone_params / 1e6:.2f} M params, '
          f'{backbone_flops / 1e9:.2f} GFLOPs/image')
    print('| model | full step median (s) | ratio of medians | median paired'
          ' ratio | neck+head fwd+bwd median (ms) | estimated ratio | '
          'neck+head params (M) | neck+head GFLOPs/image |')
    print('|---|---|---|---|---|---|---|---|')
    base = statistics.median(full['linear'])
    base_head = statistics.median(heads['linear'])
    for name in models:
        med = statistics.median(full[name])
        paired = statistics.median(t / b
                                   for t, b in zip(full[name], full['linear']))
        head = statistics.median(heads[name])
        estimate = (base + head - base_head) / base
        params, flops = extra[name]
        print(f'| {name} | {med:.3f} | {med / base:.3f} | {paired:.3f} | '
              f'{head * 1e3:.1f} | {estimate:.3f} | {params / 1e6:.3f} | '
              f'{flops / 1e9:.3f} |')
    for label, times in (('full', full), ('neck+head', heads)):
        print(f'raw {label} step times (s):')
        for name in models:
            print(f'  {name}: ' + ' '.join(f'{t:.3f}' for t in times[name]))


if __name__ == '__main__':
    main()
