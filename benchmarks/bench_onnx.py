"""Batch-1 CPU latency of every exported model: onnxruntime against PyTorch.

Each model that exports (a linear head, CMA, MS-CMA, ML-GCN, KSSNet; the
spatial-context network refuses export) is built as in
``benchmarks/gpu_suite.py`` (random label state, eval mode), written with
:func:`mmcma.apis.export_onnx` (``tools/export_onnx.py``'s function) and
run on one normalised image: PyTorch eager (the exporter's
``ProbabilityModel`` under ``torch.no_grad``) and an onnxruntime CPU session,
both with ``--threads`` threads, interleaved for ``--reps`` repetitions after
``--warmup``. It prints the median milliseconds, their ratio and the largest
difference between the two outputs' probabilities.

Usage (defaults: ResNet-50, 224 px, 80 labels, one thread)::

    OMP_NUM_THREADS=1 python benchmarks/bench_onnx.py
    python benchmarks/bench_onnx.py --depth 101 --size 448
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import tempfile
import time
import warnings
from typing import Dict, Optional, Sequence

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
for _path in (ROOT, osp.join(ROOT, 'benchmarks')):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from gpu_suite import build  # noqa: E402

#: The models ``export_onnx`` accepts.
EXPORTED = ('linear', 'cma', 'ms-cma', 'ml-gcn', 'kssnet')


def latency(name: str, args: argparse.Namespace, folder: str) -> dict:
    """Median eager and onnxruntime milliseconds of one image."""
    import onnxruntime as ort

    from mmcma.apis.onnx_export import ProbabilityModel, export_onnx
    model = build(name, args.depth, args.num_classes, args.size,
                  'cpu').eval()
    path = osp.join(folder, f'{name}.onnx')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        export_onnx(model, path, (args.size, args.size))
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options,
                                   providers=['CPUExecutionProvider'])
    wrapper = ProbabilityModel(model).eval()
    image = torch.randn(1, 3, args.size, args.size,
                        generator=torch.Generator().manual_seed(0))
    feed = {'image': image.numpy()}

    def eager():
        with torch.no_grad():
            return wrapper(image).numpy()

    def onnx():
        return session.run(['probabilities'], feed)[0]

    times: Dict[str, list] = {'eager': [], 'onnx': []}
    outputs = {}
    for rep in range(args.warmup + args.reps):
        pair = (('eager', eager), ('onnx', onnx))
        for key, fn in (pair if rep % 2 == 0 else pair[::-1]):  # alternate
            start = time.perf_counter()
            outputs[key] = fn()
            if rep >= args.warmup:
                times[key].append(time.perf_counter() - start)
    row = {key: statistics.median(t) * 1e3 for key, t in times.items()}
    row['diff'] = float(np.abs(outputs['eager'] - outputs['onnx']).max())
    return row


def table(rows: Dict[str, dict]) -> str:
    lines = ['| model | PyTorch eager ms | onnxruntime ms | onnxruntime / '
             'eager | max abs diff of probabilities |',
             '|---|---|---|---|---|']
    for name, r in rows.items():
        lines.append(f"| {name} | {r['eager']:.1f} | {r['onnx']:.1f} | "
                     f"{r['onnx'] / r['eager']:.2f} | {r['diff']:.1e} |")
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='*', default=list(EXPORTED),
                        choices=EXPORTED)
    parser.add_argument('--depth', type=int, default=50,
                        choices=(18, 50, 101))
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--num-classes', type=int, default=80)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--reps', type=int, default=10)
    parser.add_argument('--threads', type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    header = (f'ResNet-{args.depth}, {args.size} px, batch 1, '
              f'{args.num_classes} labels, {args.threads} thread(s), median '
              f'of {args.reps} after {args.warmup} warm-up; load average at '
              f'start {os.getloadavg()[0]:.2f}')
    with tempfile.TemporaryDirectory() as folder:
        rows = {name: latency(name, args, folder) for name in args.models}
    text = header + '\n\n' + table(rows)
    print(text)
    return text


if __name__ == '__main__':
    main()
