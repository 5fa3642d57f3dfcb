"""The GPU suite: training throughput and peak memory of every model, fp32
and AMP, at the papers' size, and a 2-process NCCL smoke run.

One GPU, within about 8 minutes at the defaults. For each model (a linear
head, CMA, MS-CMA, ML-GCN, KSSNet on ResNet-101; the spatial-context network
on ResNeXt-101 32x4d; 80 labels, 448 px, batch 16) and each precision (fp32,
``--amp``: ``torch.autocast`` float16 with a gradient scaler, as mmengine's
``AmpOptimWrapper``), it times ``--steps`` training steps (forward, all
losses, backward, SGD step) after ``--warmup`` and reports images/s and the
peak memory (``torch.cuda.max_memory_allocated``; on the CPU, the process's
peak resident memory). With two GPUs or more it also trains the demo's
linear model for one epoch with ``tools/dist_train.sh`` in 2 processes
(NCCL). The markdown table goes to stdout and to ``--out``.

Usage (on the GPU machine; ``--tiny`` is the CPU smoke setting: ResNet-18,
64 px, batch 2, one step)::

    python benchmarks/gpu_suite.py --out gpu_suite.md
    python benchmarks/gpu_suite.py --tiny --device cpu
"""
import argparse
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from typing import Dict, List, Optional, Sequence

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
for _path in (ROOT, osp.join(ROOT, 'benchmarks')):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bench_heads  # noqa: E402
import bench_kssnet  # noqa: E402
import bench_spatial_context  # noqa: E402

MODELS_ = ('linear', 'cma', 'ms-cma', 'ml-gcn', 'kssnet', 'spatial-context')
_NAMES = {'ml-gcn': 'ML-GCN', 'kssnet': 'KSSNet'}
RESNEXT = dict(type='ResNeXt', depth=101, groups=32, width_per_group=4)


def model_config(name: str, depth: int, num_classes: int,
                 size: int) -> dict:
    """The ``ImageClassifier`` (or spatial-context) config of ``name``;
    the spatial-context network gets ResNeXt-101 32x4d at depth 101."""
    if name == 'spatial-context':
        cfg = bench_spatial_context.paper_spatial_model(
            depth, num_classes, size, 64)
        if depth == 101:
            cfg['backbone'] = dict(RESNEXT, out_indices=(0, 1, 2, 3))
        return cfg
    if name in _NAMES:
        cfg = bench_kssnet.model_configs(depth, num_classes)[_NAMES[name]]
        return dict(cfg, type='ImageClassifier')
    return bench_heads.model_configs(depth, num_classes, 512, 256,
                                     512)[name]


def build(name: str, depth: int, num_classes: int, size: int,
          device: str) -> torch.nn.Module:
    """The model on ``device``, label state random (seed 0)."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from mmcma.models import label_state_modules
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(model_config(name, depth, num_classes, size))
    for _, module in label_state_modules(model):
        for array, shape in module.label_state_shapes().items():
            module.set_label_state(array, torch.rand(shape))
    return model.to(device).train()


def peak_memory_mib(device: str) -> float:
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, amp: bool, args: argparse.Namespace) -> dict:
    """Images/s and peak memory of ``args.steps`` training steps."""
    device = args.device
    cuda = device.startswith('cuda')
    model = build(name, args.depth, args.num_classes, args.size, device)
    samples = [s.to(device) for s in bench_spatial_context.random_samples(
        args.batch, args.num_classes, args.size)]
    images = torch.randn(args.batch, 3, args.size, args.size, device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    scaler = torch.amp.GradScaler('cuda', enabled=amp and cuda)
    autocast = (torch.autocast(device.split(':')[0],
                               dtype=torch.float16 if cuda else
                               torch.bfloat16) if amp else nullcontext())

    def step():
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            loss = sum(model(images, samples, mode='loss').values())
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    for _ in range(args.warmup):
        step()
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if cuda:
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    row = dict(images_per_s=args.batch * args.steps / seconds,
               step_s=seconds / args.steps, peak=peak_memory_mib(device))
    del model, optimizer
    if cuda:
        torch.cuda.empty_cache()
    return row


DIST_CONFIG = """
_base_ = [{base!r}]
train_dataloader = dict(batch_size=4, dataset=dict(data_root={data!r}))
val_dataloader = dict(batch_size=4, dataset=dict(data_root={data!r}))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(checkpoint=dict(save_best=None))
"""


def dist_smoke(timeout: int = 300) -> str:
    """``tools/dist_train.sh`` of the demo's linear model, 2 processes, one
    epoch on 16 generated scenes: a one-line result."""
    from mmcma.datasets.synthetic_scenes import generate
    with tempfile.TemporaryDirectory() as tmp:
        data = osp.join(tmp, 'scenes')
        generate(data, 16, 8, 64, seed=0)
        base = osp.join(ROOT, 'configs/demo/'
                        'linear_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
        with open(osp.join(tmp, 'cfg.py'), 'w') as f:
            f.write(DIST_CONFIG.format(base=base, data=data))
        env = dict(os.environ, PYTHON=sys.executable,
                   PYTHONPATH=os.pathsep.join(
                       [ROOT, os.environ.get('PYTHONPATH', '')]))
        start = time.perf_counter()
        proc = subprocess.run(
            [osp.join(ROOT, 'tools/dist_train.sh'), 'cfg.py', '2',
             '--work-dir', 'work'], cwd=tmp, env=env, timeout=timeout,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seconds = time.perf_counter() - start
    backend = 'nccl' if "'backend': 'nccl'" in proc.stdout else 'not nccl'
    if proc.returncode:
        return (f'dist_train.sh 2 processes: FAILED (exit {proc.returncode})'
                f', last output:\n{proc.stdout[-2000:]}')
    return (f'dist_train.sh 2 processes ({backend}): one epoch in '
            f'{seconds:.0f} s')


def table(rows: Dict[tuple, dict], device: str) -> str:
    memory = 'peak GPU MiB' if device.startswith('cuda') else 'peak RSS MiB'
    lines = [f'| model | precision | images/s | s/step | x linear | '
             f'{memory} |', '|---|---|---|---|---|---|']
    for (name, precision), r in rows.items():
        if 'error' in r:
            lines.append(f"| {name} | {precision} | failed: "
                         f"{r['error'][:200]} | | | |")
            continue
        base = rows.get(('linear', precision))
        ratio = f"{base['images_per_s'] / r['images_per_s']:.2f}" \
            if base and 'error' not in base else ''
        lines.append(f"| {name} | {precision} | {r['images_per_s']:.1f} | "
                     f"{r['step_s']:.3f} | {ratio} | {r['peak']:.0f} |")
    return '\n'.join(lines)


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--models', nargs='*', default=list(MODELS_),
                        choices=MODELS_)
    parser.add_argument('--precisions', nargs='*', default=['fp32', 'amp'],
                        choices=('fp32', 'amp'))
    parser.add_argument('--depth', type=int, default=101,
                        choices=(18, 50, 101))
    parser.add_argument('--size', type=int, default=448)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--num-classes', type=int, default=80)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--tiny', action='store_true',
                        help='ResNet-18, 64 px, batch 2, 0 + 1 steps')
    parser.add_argument('--no-dist', action='store_true')
    parser.add_argument('--out', default=None)
    args = parser.parse_args(argv)
    if args.tiny:
        args.depth, args.size, args.batch = 18, 64, 2
        args.warmup, args.steps = 0, 1
    return args


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit('no GPU: give --device cpu (with --tiny)')
    rows: Dict[tuple, dict] = {}
    for precision in args.precisions:
        for name in args.models:
            try:
                row = measure(name, precision == 'amp', args)
            except Exception as e:  # one broken model must not end the run
                row = dict(error=f'{type(e).__name__}: {e}'.splitlines()[0])
                if args.device.startswith('cuda'):
                    torch.cuda.empty_cache()
            rows[(name, precision)] = row
            print(f'  {name} {precision}: {row}', flush=True)
    device = (torch.cuda.get_device_name(args.device)
              if args.device.startswith('cuda') else 'CPU')
    notes: List[str] = []
    if not args.no_dist:
        notes.append(dist_smoke() if torch.cuda.device_count() >= 2 else
                     'dist_train.sh: skipped (fewer than 2 GPUs)')
    text = (f'{device}; ResNet-{args.depth} (ResNeXt-101 32x4d for '
            f'spatial-context at depth 101), {args.size} px, batch '
            f'{args.batch}, {args.num_classes} labels, {args.steps} steps '
            f'after {args.warmup} warm-up; torch {torch.__version__}\n\n' +
            table(rows, args.device) + '\n\n' + '\n'.join(notes))
    print('\n' + text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    return text


if __name__ == '__main__':
    main()
