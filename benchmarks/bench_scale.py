"""OpenImages-sized label sets: label graph, ASGE and a training step per head.

A synthetic sparse label matrix (``bench_graph.synthetic_labels``: about 2.9
labels per image; by default 1,000,000 images x 9,605 labels, the size of
OpenImages' trainable classes) feeds every row. Each row runs in a forked
process; its peak resident memory is reset (Linux ``/proc/self/clear_refs``)
once its inputs are built, so "added MiB" is what the measured step itself
needs and "peak MiB" the process's peak resident memory during the step:

* ``graph <kind>``: :func:`mmcma.labels.build_label_graph` from the sparse
  label matrix (the dense float64 graph), ``graph mlgcn/sparse``:
  :func:`mmcma.labels.graphs.sparse_mlgcn_graph`, the same graph as a
  scipy CSR matrix, and ``graph ks/sparse``: KSSNet's KS graph of that
  graph and a synthetic knowledge graph
  (:func:`mmcma.labels.graphs.sparse_ks_superimpose`);
* ``asge``: :func:`mmcma.labels.fit_asge` with its defaults on the
  conditional graph; "note" gives the fraction of all-zero embeddings;
* ``step <head>``: one training step (forward, loss, backward, SGD step) of
  the whole model, ResNet at ``--size`` px and batch ``--batch``: a linear
  head, CMA, MS-CMA, ML-GCN (over the ML-GCN graph of the labels) and KSSNet
  (over a KS graph of that graph and a synthetic knowledge graph); "x
  linear" is the ratio to the linear model's step. ``ms-cma/written`` is
  MS-CMA with eq. 7-10 as autograd writes them (before
  :func:`~mmcma.models.heads.cma_fused.chunked_cosine_logits`), for a
  before/after within one run. Label embeddings are
  random: the cost does not depend on their values. On a busy machine
  the ratio of CPU seconds ("x linear (CPU s)", one thread) is the steadier
  one.

``--rounds R`` runs the step rows R times in turn (linear, cma, ..., linear,
cma, ...), each time in a fresh process, and reports the median of the
rounds: versions alternate, so a change of load hits all of them.

Usage (defaults: the full size, ResNet-50 224 px batch 32, one thread)::

    OMP_NUM_THREADS=1 python benchmarks/bench_scale.py
    python benchmarks/bench_scale.py --images 2000 --labels 40 --depth 18 \
        --size 32 --batch 2 --asge-iters 3     # a tiny run

Wall seconds on a shared machine stretch with the load; CPU seconds of the
process are printed next to them.
"""
import argparse
import multiprocessing
import os
import os.path as osp
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Dict, List, Optional, Sequence

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
for _path in (ROOT, osp.join(ROOT, 'benchmarks')):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from bench_asge import _memory_mib, _reset_peak_memory  # noqa: E402
from bench_graph import synthetic_labels  # noqa: E402

HEADS = ('linear', 'cma', 'ms-cma', 'ml-gcn', 'kssnet', 'ms-cma/written')
#: The heads a run measures by default.
DEFAULT_HEADS = HEADS[:5]
#: Each head's model in ``bench_heads.model_configs`` or
#: ``bench_kssnet.model_configs``.
_CONFIG_NAMES = {'linear': 'linear', 'cma': 'cma', 'ms-cma': 'ms-cma',
                 'ml-gcn': 'ML-GCN', 'kssnet': 'KSSNet',
                 'ms-cma/written': 'ms-cma'}
#: Label-embedding sizes of the CMA heads (``bench_heads``) and GCNs.
CMA_EMBED_DIM = 256


def synthetic_knowledge(num_labels: int, neighbours: int = 4,
                        seed: int = 0) -> np.ndarray:
    """A symmetric 0/1 knowledge graph linking each label to ``neighbours``
    random others (the stand-in for WordNet over synthetic names)."""
    rng = np.random.default_rng(seed)
    graph = np.zeros((num_labels, num_labels))
    rows = np.repeat(np.arange(num_labels), neighbours)
    graph[rows, rng.integers(0, num_labels, rows.size)] = 1.0
    graph = np.maximum(graph, graph.T)
    np.fill_diagonal(graph, 0.0)
    return graph


def sparse_knowledge(num_labels: int):
    """:func:`synthetic_knowledge` as a scipy CSR matrix."""
    import scipy.sparse as sp
    return sp.csr_matrix(synthetic_knowledge(num_labels))


def head_graph(head: str, labels) -> Optional[tuple]:
    """``(graph, normalisation)`` a head's label state holds, or None: the
    sparse builders' graphs (equal to the dense ones, as the label state
    builds them from 1,024 labels on)."""
    from mmcma.labels.graphs import sparse_ks_superimpose, sparse_mlgcn_graph
    if head == 'ml-gcn':
        return sparse_mlgcn_graph(labels), 'none'
    if head == 'kssnet':
        return sparse_ks_superimpose(sparse_mlgcn_graph(labels),
                                     sparse_knowledge(labels.shape[1])), \
            'symmetric'
    return None


def build_model(head: str, depth: int, labels):
    """The ``head`` model with its label state filled (seed 0)."""
    import torch
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import bench_heads
    import bench_kssnet
    from mmcma.models import label_state_modules

    init_default_scope('mmpretrain')
    num_labels = labels.shape[1]
    configs = dict(bench_heads.model_configs(depth, num_labels, 512,
                                             CMA_EMBED_DIM, 512))
    configs.update(bench_kssnet.model_configs(depth, num_labels))
    cfg = dict(configs[_CONFIG_NAMES[head]], type='ImageClassifier')
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    graph = head_graph(head, labels)
    for _, module in label_state_modules(model):
        for name, shape in module.label_state_shapes().items():
            if name == 'graph':
                module.set_label_state(name, graph[0], graph[1])
            elif name == 'frequency':
                counts = np.asarray(labels.sum(axis=0)).ravel()
                module.set_label_state(name, counts / labels.shape[0])
            else:
                module.set_label_state(name, torch.randn(shape))
    return model


def _measured(fn, before_rss: Optional[float]) -> tuple:
    """Wall and CPU seconds and memory of ``fn()`` (peak reset first)."""
    _reset_peak_memory()
    before = _memory_mib()['rss'] if before_rss is None else before_rss
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    row = dict(seconds=time.perf_counter() - start,
               cpu_seconds=time.process_time() - cpu)
    peak = _memory_mib()['peak']
    row.update(peak=peak, added=peak - before)
    return row, result


def run_row(row: str, args: argparse.Namespace) -> dict:
    """Measure one row (in a fresh process)."""
    import torch
    torch.set_num_threads(args.threads)
    labels = synthetic_labels(args.images, args.labels, args.seed)
    if row.startswith('graph'):
        from mmcma.labels.graphs import (build_label_graph,
                                         sparse_ks_superimpose,
                                         sparse_mlgcn_graph)
        kind = row.split()[1]
        if kind == 'ks/sparse':
            knowledge = sparse_knowledge(labels.shape[1])

            def build(labels):
                return sparse_ks_superimpose(sparse_mlgcn_graph(labels),
                                             knowledge)
        elif kind == 'mlgcn/sparse':
            build = sparse_mlgcn_graph
        else:
            def build(labels):
                return build_label_graph(labels, kind)
        result, graph = _measured(lambda: build(labels), None)
        nnz = graph.nnz if hasattr(graph, 'nnz') else np.count_nonzero(graph)
        result['note'] = f'{nnz / graph.shape[0]:.1f} non-zeros per row'
        return result
    if row == 'asge':
        from mmcma.labels import build_label_graph, fit_asge
        graph = build_label_graph(labels, 'conditional')
        options = dict(progress=False, seed=args.seed)
        if args.asge_iters is not None:
            options['max_iters'] = args.asge_iters
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # zero embeddings: counted below
            result, fit = _measured(lambda: fit_asge(graph, **options), None)
        zero = (np.abs(fit.embeddings).sum(axis=1) == 0).mean()
        result['note'] = f'{zero:.2%} all-zero rows, {fit.num_iters} steps'
        return result
    from mmpretrain.structures import DataSample
    head = row.split()[1]
    if head == 'ms-cma/written':
        # This process is the row's own (forked): the change stays here.
        from mmcma.models.heads.cma_head import CMABranch
        CMABranch._fusable = lambda self, visual: False
    model = build_model(head, args.depth, labels)
    del labels
    generator = torch.Generator().manual_seed(args.seed)
    images = torch.randn(args.batch, 3, args.size, args.size,
                         generator=generator)
    samples = [DataSample().set_gt_label(
        torch.randperm(args.labels, generator=generator)[:3])
        for _ in range(args.batch)]
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)

    def step():
        optimizer.zero_grad(set_to_none=True)
        model(images, samples, mode='loss')['loss'].backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    before = _memory_mib()['rss']
    runs = [_measured(step, before)[0] for _ in range(args.iters)]
    result = {key: statistics.median(r[key] for r in runs)
              for key in ('seconds', 'cpu_seconds')}
    result.update(peak=max(r['peak'] for r in runs),
                  added=max(r['added'] for r in runs), note='')
    return result


def table(rows: Dict[str, dict]) -> str:
    """The markdown table; steps get their ratio to the linear model."""
    linear = rows.get('step linear')
    lines = ['| row | seconds | CPU s | x linear | x linear (CPU s) | '
             'peak MiB | added MiB | note |',
             '|---|---|---|---|---|---|---|---|']
    for name, r in rows.items():
        ratios = [f"{r[key] / linear[key]:.2f}"
                  if linear and name.startswith('step') else ''
                  for key in ('seconds', 'cpu_seconds')]
        lines.append(f"| {name} | {r['seconds']:.3f} | "
                     f"{r['cpu_seconds']:.3f} | {' | '.join(ratios)} | "
                     f"{r['peak']:.0f} | {r['added']:.0f} | {r['note']} |")
    return '\n'.join(lines)


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=1_000_000)
    parser.add_argument('--labels', type=int, default=9605)
    parser.add_argument('--depth', type=int, default=50,
                        choices=(18, 34, 50, 101))
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--heads', nargs='*', default=list(DEFAULT_HEADS),
                        choices=HEADS)
    parser.add_argument('--graphs', nargs='*',
                        default=['conditional', 'mlgcn', 'mlgcn/sparse',
                                 'ks/sparse'],
                        help="graph rows: a kind of build_label_graph, "
                        "'mlgcn/sparse' (sparse_mlgcn_graph) or 'ks/sparse' "
                        '(sparse_ks_superimpose)')
    parser.add_argument('--skip-asge', action='store_true')
    parser.add_argument('--asge-iters', type=int, default=None,
                        help="ASGE's max_iters (default: fit_asge's)")
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--iters', type=int, default=1)
    parser.add_argument('--rounds', type=int, default=1,
                        help='run the step rows this many times in turn '
                        '(median of the rounds)')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def _run_in_process(name: str, args: argparse.Namespace,
                    context) -> Optional[dict]:
    """``run_row`` in a fresh forked process; None if it was killed."""
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        try:
            return pool.submit(run_row, name, args).result()
        except BrokenProcessPool:  # killed, e.g. out of memory
            print(f'  {name}: the process was killed', flush=True)
            return None


def _median_of_rounds(results: List[dict]) -> dict:
    """One row from the rounds' rows: median times, largest memory."""
    row = {key: statistics.median(r[key] for r in results)
           for key in ('seconds', 'cpu_seconds')}
    row.update(peak=max(r['peak'] for r in results),
               added=max(r['added'] for r in results),
               note=results[0]['note'])
    if len(results) > 1:
        row['note'] = (row['note'] + ' ' if row['note'] else '') + \
            f"median of {len(results)} rounds (CPU s " + \
            ', '.join(f"{r['cpu_seconds']:.1f}" for r in results) + ')'
    return row


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    if args.rounds < 1:
        raise SystemExit(f'--rounds must be >= 1, got {args.rounds}')
    names: List[str] = [f'graph {kind}' for kind in args.graphs]
    names += [] if args.skip_asge else ['asge']
    steps = [f'step {head}' for head in args.heads]
    # Forked children share the parent's imports (a spawned one would import
    # torch and mmpretrain again for every row); nothing has run a torch
    # thread pool in the parent yet.
    import bench_heads  # noqa: F401
    import bench_kssnet  # noqa: F401
    import mmcma.models  # noqa: F401
    context = multiprocessing.get_context('fork')
    header = (f'{args.images:,} images x {args.labels:,} labels (synthetic, '
              f'seed {args.seed}); ResNet-{args.depth} {args.size} px batch '
              f'{args.batch}, {args.threads} thread(s), median of '
              f'{args.iters} step(s) after {args.warmup} warm-up'
              + (f', {args.rounds} rounds in turn' if args.rounds > 1 else '')
              + f'; load average at start {os.getloadavg()[0]:.2f}')
    print(header, flush=True)
    results: Dict[str, List[dict]] = {}
    order = names + steps * args.rounds
    for name in order:
        result = _run_in_process(name, args, context)
        if result is not None:
            results.setdefault(name, []).append(result)
            print(f'  {table({name: result}).splitlines()[-1]}', flush=True)
    rows = {name: _median_of_rounds(results[name])
            for name in dict.fromkeys(order) if name in results}
    text = (header + f'; at end {os.getloadavg()[0]:.2f}\n\n'
            + table(rows))
    print('\n' + table(rows))
    return text


if __name__ == '__main__':
    main()
