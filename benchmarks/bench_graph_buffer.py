"""The label graph in the model's state and checkpoint at OpenImages size.

For ML-GCN and KSSNet (``bench_scale``'s models and graphs: the sparse
ML-GCN graph of ``bench_graph.synthetic_labels``, and its KS graph with a
synthetic knowledge graph) this builds each model twice, with the graph kept
sparse (``LabelGCN(sparse=None)``, the default from 1,024 labels) and with the
dense (N, N) buffer (``sparse=False``), fills the label state and reports the
bytes of the graph's buffers in the state dict and the size of the whole
``torch.save``'d state dict. No timing: sizes only.

Usage (the full size takes a few CPU seconds per model and about 1 GiB)::

    OMP_NUM_THREADS=1 python benchmarks/bench_graph_buffer.py
    python benchmarks/bench_graph_buffer.py --images 2000 --labels 1100 \
        --depth 18     # a tiny run
"""
import argparse
import io
import os.path as osp
import sys
from typing import Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
for _path in (ROOT, osp.join(ROOT, 'benchmarks')):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import torch  # noqa: E402

import bench_kssnet  # noqa: E402
from bench_graph import synthetic_labels  # noqa: E402
from bench_scale import build_model, head_graph  # noqa: E402

GRAPH_KEYS = ('label_graph', 'label_graph_indices', 'label_graph_values')


def sizes(head: str, depth: int, labels, sparse: Optional[bool]) -> tuple:
    """``(graph buffer bytes, state dict bytes saved)`` of one model."""
    original = bench_kssnet.model_configs

    def configs(depth, num_classes):
        cfgs = original(depth, num_classes)
        for cfg in cfgs.values():
            if 'gcn' in cfg['backbone']:
                cfg['backbone']['gcn']['sparse'] = sparse
        return cfgs

    # build_model reads the GCN configs from bench_kssnet at each call.
    bench_kssnet.model_configs = configs
    try:
        state = build_model(head, depth, labels).state_dict()
    finally:
        bench_kssnet.model_configs = original
    graph = sum(v.numel() * v.element_size() for k, v in state.items()
                if k.rsplit('.', 1)[-1] in GRAPH_KEYS)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return graph, buffer.tell()


def main(argv: Optional[Sequence[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=1_000_000)
    parser.add_argument('--labels', type=int, default=9605)
    parser.add_argument('--depth', type=int, default=50,
                        choices=(18, 34, 50, 101))
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    labels = synthetic_labels(args.images, args.labels, args.seed)
    mib = 2.0**20
    lines = ['| model | graph nnz | graph buffers MiB (sparse / dense) | '
             'state dict saved MiB (sparse / dense) |', '|---|---|---|---|']
    for head in ('ml-gcn', 'kssnet'):
        nnz = head_graph(head, labels)[0].nnz
        (g_s, s_s), (g_d, s_d) = (sizes(head, args.depth, labels, sparse)
                                  for sparse in (None, False))
        lines.append(f'| {head} | {nnz} | {g_s / mib:.2f} / {g_d / mib:.1f} '
                     f'| {s_s / mib:.1f} / {s_d / mib:.1f} |')
    report = '\n'.join(lines)
    print(report)
    return report


if __name__ == '__main__':
    main()
