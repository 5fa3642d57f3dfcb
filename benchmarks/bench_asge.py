"""Time ASGE fitting on conditional graphs of synthetic label matrices.

Usage::

    .venv/bin/python benchmarks/bench_asge.py [--sizes 80 1000 10000]
        [--alpha auto|none|A] [--num-sampled K|all]
        [--activation softmax|relu]
        [--optimizer adam|sgd] [--lr LR] [--max-iters K] [--threads T]
        [--voc DIR]

Each size runs in a fresh process: the graph is built from a synthetic
label matrix (``bench_graph.synthetic_labels``, about 2.9 labels per image)
or, with ``--voc``, from the PASCAL VOC 2007 trainval labels as well; then
the peak resident memory is reset (Linux ``/proc/self/clear_refs``) and
:func:`mmcma.labels.fit_asge` is timed, in wall-clock and in CPU seconds of
the process (the steadier measure on a shared machine). Prints a markdown
table.
"""
import argparse
import multiprocessing
import os
import sys
import time
import warnings
from typing import Dict, Optional, Union

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))

# Images of the synthetic label matrix for each number of labels.
IMAGES_PER_SIZE = {80: 120_000, 1000: 120_000, 10000: 1_000_000}


def _memory_mib() -> Dict[str, float]:
    """Current and peak resident memory of this process, in MiB."""
    with open('/proc/self/status') as status:
        fields = dict(line.split(':', 1) for line in status)
    return {
        key: int(fields[name].split()[0]) / 1024
        for key, name in (('rss', 'VmRSS'), ('peak', 'VmHWM'))
    }


def _reset_peak_memory() -> None:
    """Make ``VmHWM`` restart from the current resident memory (Linux)."""
    with open('/proc/self/clear_refs', 'w') as clear_refs:
        clear_refs.write('5')


def voc_labels(root: str) -> np.ndarray:
    """``(S, 20)`` 0/1 labels of ``root/ImageSets/Main/<class>_trainval.txt``.

    1 is present; -1 (absent) and 0 (difficult) are absent.
    """
    folder = os.path.join(root, 'ImageSets', 'Main')
    suffix = '_trainval.txt'
    names = sorted(name for name in os.listdir(folder)
                   if name.endswith(suffix))
    if not names:
        raise FileNotFoundError(f'no *{suffix} files in {folder}')
    columns = []
    for name in names:
        with open(os.path.join(folder, name)) as lines:
            columns.append([line.split()[1] == '1' for line in lines
                            if line.strip()])
    return np.array(columns, dtype=np.uint8).T


def run_one(source: Union[int, str], options: dict, threads: Optional[int],
            seed: int) -> dict:
    """Build a graph (``source``: a number of synthetic labels or a VOC
    folder) and fit ASGE to it."""
    import torch

    from bench_graph import synthetic_labels
    from mmcma.labels import fit_asge
    from mmcma.labels.graphs import build_label_graph

    if threads is not None:
        torch.set_num_threads(threads)
    if isinstance(source, str):
        labels = voc_labels(source)
    else:
        num_images = IMAGES_PER_SIZE.get(source, 100 * source)
        labels = synthetic_labels(num_images, source, seed=seed)
    graph = build_label_graph(labels)
    _reset_peak_memory()
    before = _memory_mib()['rss']
    start, cpu_start = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # zero embeddings: counted below
        result = fit_asge(graph, progress=False, seed=seed, **options)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    peak = _memory_mib()['peak']
    return dict(
        name=f'VOC {len(graph)}' if isinstance(source, str) else
        f'{len(graph):,}',
        density=np.count_nonzero(graph) / graph.size,
        threads=torch.get_num_threads(),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        alpha=result.alpha,
        iters=result.num_iters,
        converged=result.converged,
        loss=result.loss,
        zero=int((np.abs(result.embeddings).sum(axis=1) == 0).sum()),
        rss_before=before,
        peak=peak)


def _parse_alpha(text: str) -> Union[float, str, None]:
    """``--alpha``: ``'auto'``, ``'none'`` (no relaxation) or a number."""
    if text == 'none':
        return None
    return text if text == 'auto' else float(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--sizes', type=int, nargs='+', default=[80, 1000, 10000])
    parser.add_argument(
        '--alpha',
        type=_parse_alpha,
        default='auto',
        help="'auto' (default), 'none' or a number")
    parser.add_argument(
        '--num-sampled',
        default='256',
        help="labels sampled per step by the relaxed loss, or 'all'")
    parser.add_argument('--activation', default='softmax')
    parser.add_argument('--optimizer', default='adam')
    parser.add_argument('--lr', type=float, default=None)
    parser.add_argument('--max-iters', type=int, default=None)
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch threads (default: torch default)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--voc',
        metavar='DIR',
        help='also fit the graph of the VOC 2007 labels in '
        'DIR/ImageSets/Main')
    args = parser.parse_args()

    options = dict(
        alpha=args.alpha,
        optimizer=args.optimizer,
        lr=args.lr,
        num_sampled=None
        if args.num_sampled == 'all' else int(args.num_sampled),
        final_activation=args.activation)
    if args.max_iters is not None:
        options['max_iters'] = args.max_iters
    context = multiprocessing.get_context('spawn')
    print(f'alpha={args.alpha} num_sampled={args.num_sampled} '
          f'activation={args.activation} optimizer={args.optimizer} '
          f'lr={args.lr} max_iters={args.max_iters or "default"}, '
          'load average at start '
          f'{os.getloadavg()[0]:.2f}\n')
    print('| N | graph non-zeros | α | threads | fit s | fit CPU s | '
          'CPU s/step | steps | stopped early | mean loss | zero embeddings | '
          'RSS before fit MiB | peak RSS in fit MiB | fit adds MiB |')
    print('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    sources = args.sizes + ([args.voc] if args.voc else [])
    for source in sources:
        with context.Pool(1) as pool:
            row = pool.apply(run_one,
                             (source, options, args.threads, args.seed))
        print(f"| {row['name']} | {row['density']:.1%} | "
              f"{row['alpha'] or '–'} | {row['threads']} | "
              f"{row['seconds']:.2f} | {row['cpu_seconds']:.2f} | "
              f"{row['cpu_seconds'] / row['iters']:.4f} | {row['iters']} | "
              f"{'yes' if row['converged'] else 'no'} | {row['loss']:.3e} | "
              f"{row['zero']:,} | "
              f"{row['rss_before']:.0f} | {row['peak']:.0f} | "
              f"{row['peak'] - row['rss_before']:.0f} |",
              flush=True)


if __name__ == '__main__':
    main()
