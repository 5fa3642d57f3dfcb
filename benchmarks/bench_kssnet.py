"""What KSSNet's label GCN and lateral connections cost, in one run.

Three models on the same ResNet and the same input: the plain backbone with
global average pooling and a linear head, ML-GCN (``LateralGCNBackbone``
without lateral stages + ``GCNClsHead``: 2-layer GCN 300 -> 1024 -> C) and
KSSNet (the same modules with a 4-layer GCN of the stage widths and lateral
connections into layer1..3). Label state
is random (80 labels, 300-d vectors): costs do not depend on its values.

Measured round-robin (each iteration times every model once, so a busy
machine slows all alike), reported as medians and as ratios:

- train step: forward + backward + SGD step (``mode='loss'``);
- inference: forward without gradients (``mode='tensor'``, eval mode);
- GFLOPs (multiply-adds, as mmengine counts them) of one image, from
  ``mmengine.analysis`` (what ``get_model_complexity_info`` runs), which
  traces the forward with the lateral hooks in place;
- parameters.

Usage (defaults: ResNet-50, 224 px, batch 4, 1 warm-up + 3 timed iterations,
one torch thread; ``--flops-only`` for the paper's size without timing)::

    OMP_NUM_THREADS=1 python benchmarks/bench_kssnet.py [--depth 50]
    python benchmarks/bench_kssnet.py --depth 101 --size 448 --flops-only
"""
import argparse
import os.path as osp
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import mmcma  # noqa: E402,F401  (registers the models)
from mmcma.models import label_state_modules  # noqa: E402

#: Output widths of ResNet's stages (layer1..4) by depth.
STAGE_WIDTHS = {18: (64, 128, 256, 512), 34: (64, 128, 256, 512),
                50: (256, 512, 1024, 2048), 101: (256, 512, 1024, 2048)}
EMBED_DIM = 300


def model_configs(depth: int, num_classes: int) -> Dict[str, dict]:
    """``ImageClassifier`` configs (without ``type``) of the three models."""
    widths = STAGE_WIDTHS[depth]
    resnet = dict(type='ResNet', depth=depth, out_indices=(3, ))

    def gcn_model(channels, stages):
        """The GCN family: ML-GCN without lateral stages, KSSNet with."""
        return dict(
            backbone=dict(type='LateralGCNBackbone', backbone=resnet,
                          num_classes=num_classes,
                          gcn=dict(embed_dim=EMBED_DIM, channels=channels),
                          stages=stages),
            head=dict(type='GCNClsHead', num_classes=num_classes,
                      in_channels=widths[-1]))

    configs = {
        'linear head': dict(
            backbone=resnet, neck=dict(type='GlobalAveragePooling'),
            head=dict(type='MultiLabelLinearClsHead',
                      num_classes=num_classes, in_channels=widths[-1])),
        'ML-GCN': gcn_model((1024, widths[-1]), ()),
        'KSSNet': gcn_model(widths, ('layer1', 'layer2', 'layer3')),
    }
    return configs


def build_models(depth: int, num_classes: int) -> Dict[str, torch.nn.Module]:
    """The three models, label state filled at random (seed 0)."""
    init_default_scope('mmpretrain')
    models = {}
    for name, cfg in model_configs(depth, num_classes).items():
        torch.manual_seed(0)
        model = MODELS.build(dict(type='ImageClassifier', **cfg))
        for _, module in label_state_modules(model):
            for array, shape in module.label_state_shapes().items():
                module.set_label_state(array, torch.rand(shape))
        models[name] = model
    return models


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(models: Dict[str, torch.nn.Module], images: torch.Tensor,
            samples: List[DataSample], warmup: int,
            iters: int) -> Dict[str, Dict[str, float]]:
    """Median train-step and inference seconds of each model."""
    optimizers = {name: torch.optim.SGD(m.parameters(), lr=1e-4)
                  for name, m in models.items()}

    def train_step(name):
        model = models[name].train()
        loss = model(images, samples, mode='loss')['loss']
        optimizers[name].zero_grad()
        loss.backward()
        optimizers[name].step()

    def inference(name):
        model = models[name].eval()
        with torch.no_grad():
            model(images, mode='tensor')

    times = {name: dict(train=[], infer=[]) for name in models}
    for i in range(warmup + iters):
        for name in models:
            train = timed(lambda: train_step(name))
            infer = timed(lambda: inference(name))
            if i >= warmup:
                times[name]['train'].append(train)
                times[name]['infer'].append(infer)
    return {name: {k: statistics.median(v) for k, v in t.items()}
            for name, t in times.items()}


def complexity(model: torch.nn.Module, size: int) -> Dict[str, float]:
    """GFLOPs of one image and parameters (M), by mmengine's analysis.

    ``FlopAnalyzer`` and ``parameter_count`` are what
    ``get_model_complexity_info`` runs; called directly, their warnings
    about ops without a FLOP rule (element-wise adds, tanh, pooling, which
    mmengine counts as free for every model alike) can be turned off.
    """
    flops = FlopAnalyzer(model.eval(), (torch.randn(1, 3, size, size), ))
    flops.unsupported_ops_warnings(False)
    flops.uncalled_modules_warnings(False)
    return dict(gflops=flops.total() / 1e9,
                params=parameter_count(model)[''] / 1e6)


def table(results: Dict[str, Dict[str, float]]) -> str:
    """A markdown table with ratios to the linear head and to ML-GCN."""
    base, mlgcn = results['linear head'], results['ML-GCN']
    keys = [(key, label) for key, label in [
        ('train', 'train step (s)'), ('infer', 'inference (s)'),
        ('gflops', 'GFLOPs')] if key in base]
    head = ['model']
    for _, label in keys:
        head += [label, 'x linear', 'x ML-GCN']
    head.append('params (M)')
    lines = ['| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    for name, r in results.items():
        cells = [name]
        for key, _ in keys:
            cells += [f'{r[key]:.3f}', f'{r[key] / base[key]:.3f}',
                      f'{r[key] / mlgcn[key]:.3f}']
        cells.append(f'{r["params"]:.2f}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--depth', type=int, default=50,
                        choices=sorted(STAGE_WIDTHS))
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--num-classes', type=int, default=80)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--flops-only', action='store_true',
                        help='count GFLOPs and parameters, time nothing')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    models = build_models(args.depth, args.num_classes)
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(args.batch, 3, args.size, args.size,
                         generator=generator)
    samples = [DataSample().set_gt_label(
        torch.randperm(args.num_classes, generator=generator)[:3])
               for _ in range(args.batch)]
    if args.flops_only:
        results = {name: {} for name in models}
        timing = 'no timing'
    else:
        results = measure(models, images, samples, args.warmup, args.iters)
        timing = (f'batch {args.batch}, {args.threads} thread(s), median of '
                  f'{args.iters} iterations after {args.warmup} warm-up')
    for name, model in models.items():
        results[name].update(complexity(model, args.size))
    text = (f'ResNet-{args.depth}, {args.size} px, {args.num_classes} '
            f'labels, {timing}\n\n' + table(results))
    print(text)
    return text


if __name__ == '__main__':
    main()
