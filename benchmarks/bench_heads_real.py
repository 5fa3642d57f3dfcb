"""Multi-label heads on frozen EfficientNet-Lite0 features of real photos.

Reads any COCO-format multi-label set (``CocoMultiLabel``), computes the
ImageNet-pretrained EfficientNet-Lite0 stage outputs of every image once per
image size (kept in memory, float16; optionally saved with ``--cache``), and
trains each head on them with one recipe (AdamW, cosine schedule, the heads'
BCE losses, no augmentation). Label embeddings are ASGE on the training
labels (``mmcma.fill_label_state``), fitted per seed. Prints one markdown
table: val mAP mean ± std over the seeds, train mAP (over-fitting), and for
attention heads the attention statistics on val (all-zero rows, normalised
entropy).

Heads (``--heads``; the ablations of ``docs/benchmarks_heads_real.md`` are
the ``cma-*`` and ``ms-cma-*`` names):

* ``linear``: global average pooling + ``MultiLabelLinearClsHead``;
* ``csra``: mmpretrain's ``CSRAClsHead`` (1 head, lambda 0.1);
* ``self``: ``CMTNeck(embed_dim=None)`` + ``CMAHead(attention='self')``;
* ``cma``: ``CMTNeck`` + ``CMAHead`` on the last stage (paper, eq. 7-10);
* ``ms-cma``: ``CMTNeck`` on stride 16 and 32 + extra stage, ``MSCMAHead``;
* ``ml-gcn``: ``LateralGCNBackbone`` without lateral stages around the
  cached features + ``GCNClsHead`` (max pooling, GCN over ML-GCN's released
  graph, t = 0.4) on ASGE label vectors fitted on that graph;
* ``cma-softmax``, ``ms-cma-softmax``: the same with ``score='softmax'``
  (softmax over positions with a learnable temperature instead of eq. 7's
  ReLU of the cosine).

Data made by ``benchmarks/real_photo_mosaics.py``::

    python benchmarks/real_photo_mosaics.py --source fashion-mnist \
        --out data/fashion_mosaics
    python benchmarks/bench_heads_real.py --data-root data/fashion_mosaics
"""
import argparse
import hashlib
import os
import os.path as osp
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmpretrain.evaluation import AveragePrecision
from mmpretrain.models import ClsDataPreprocessor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor, nn

import mmcma
from mmcma.datasets import CocoMultiLabel, get_label_matrix
from mmcma.io import read_npy
from mmcma.models.backbones import EfficientNetLite0
from mmcma.models.backbones.efficientnet_lite import LITE0_STAGES
from mmcma.models.heads import CMAHead

#: Backbone stages cached: stride 16 (112 ch), 32 (320 ch), 32 (1280 ch).
STAGES = (4, 5, 6)
#: Pixels of Google's Lite models: (x - 127) / 128, RGB.
PREPROCESSOR = dict(mean=[127.] * 3, std=[128.] * 3, to_rgb=True)


def channels(index: int) -> int:
    return LITE0_STAGES[index][1]


def head_variants(num_classes: int, reduced: int,
                  embed_dim: int) -> Dict[str, Tuple[Sequence[int], dict,
                                                     dict]]:
    """name -> (backbone stages used, neck config or {}, head config)."""
    c4, c6 = channels(4), channels(6)
    cmt = dict(type='CMTNeck', reduced_channels=reduced, embed_dim=embed_dim,
               cmt_channels=(embed_dim, ))
    cma = dict(type='CMAHead', num_classes=num_classes, in_channels=reduced,
               embed_dim=embed_dim)
    ms_cma = dict(type='MSCMAHead', num_classes=num_classes,
                  in_channels=(reduced, ) * 3, embed_dim=embed_dim)
    ms_neck = dict(cmt, in_channels=(c4, c6),
                   extra_stage=dict(out_channels=reduced))
    return {
        'linear': ((6, ), dict(type='GlobalAveragePooling'),
                   dict(type='MultiLabelLinearClsHead',
                        num_classes=num_classes, in_channels=c6)),
        'csra': ((6, ), {}, dict(type='CSRAClsHead', num_classes=num_classes,
                                 in_channels=c6, num_heads=1, lam=0.1)),
        'self': ((6, ), dict(cmt, in_channels=c6, embed_dim=None),
                 dict(cma, attention='self')),
        'cma': ((6, ), dict(cmt, in_channels=c6), cma),
        'cma-softmax': ((6, ), dict(cmt, in_channels=c6),
                        dict(cma, score='softmax')),
        'ms-cma': ((4, 6), ms_neck, ms_cma),
        'ms-cma-softmax': ((4, 6), ms_neck, dict(ms_cma, score='softmax')),
        # ML-GCN: GCN over its released graph (t = 0.4) on ASGE vectors; in
        # the neck's place the GCN family's backbone wrapper, wrapping no
        # backbone (the features are cached), attaches the classifiers.
        'ml-gcn': ((6, ), dict(type='LateralGCNBackbone',
                               backbone=dict(type=nn.Identity),
                               num_classes=num_classes, stages=(),
                               gcn=dict(embed_dim=embed_dim,
                                        channels=(1024, c6))),
                   dict(type='GCNClsHead', num_classes=num_classes,
                        in_channels=c6)),
    }


class HeadOnFeatures(BaseModule):
    """Neck (optional) + head on cached backbone features."""

    def __init__(self, neck: dict, head: dict):
        super().__init__()
        self.neck = MODELS.build(neck) if neck else None
        self.head = MODELS.build(head)

    def neck_out(self, feats: Tuple[Tensor, ...]):
        return self.neck(feats) if self.neck is not None else feats

    def forward(self, feats: Tuple[Tensor, ...]) -> Tensor:
        return self.head(self.neck_out(feats))


def build_dataset(data_root: str, ann: str, prefix: str,
                  img_size: int) -> CocoMultiLabel:
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(img_size, img_size)),
        dict(type='PackInputs')
    ]
    return CocoMultiLabel(ann_file=ann, data_root=data_root,
                          data_prefix=dict(img_path=prefix),
                          pipeline=pipeline, drop_empty=False)


@torch.inference_mode()
def extract_features(dataset, backbone: nn.Module, batch_size: int
                     ) -> List[Tensor]:
    """Stage outputs of every image, float16, one (S, C, H, W) per stage."""
    preprocessor = ClsDataPreprocessor(**PREPROCESSOR)
    outs: List[List[Tensor]] = [[] for _ in STAGES]
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size,
                                                      len(dataset)))]
        inputs = preprocessor(dict(inputs=[d['inputs'] for d in items]),
                              False)['inputs']
        feats = backbone(inputs.contiguous(memory_format=torch.channels_last))
        for out, f in zip(outs, feats):
            out.append(f.contiguous().half())
    return [torch.cat(o) for o in outs]


def cached_features(dataset, ann_path: str, img_size: int, batch_size: int,
                    cache_dir: Optional[str]) -> List[Tensor]:
    """Features from ``cache_dir`` (plain .npy, no pickle) or computed.

    Cached files are keyed by the annotation file's content and the image
    size: regenerate (or clear the cache) when the images change.
    """
    with open(ann_path, 'rb') as f:
        key = hashlib.sha1(f.read()).hexdigest()[:12]
    files = [
        osp.join(cache_dir, f'lite0_{key}_{img_size}px_stage{s}.npy')
        for s in STAGES
    ] if cache_dir else []
    if files and all(osp.isfile(f) for f in files):
        return [torch.from_numpy(np.array(read_npy(f))) for f in files]
    backbone = EfficientNetLite0(out_indices=STAGES, frozen_stages=7)
    backbone.init_weights()
    backbone.eval().to(memory_format=torch.channels_last)
    feats = extract_features(dataset, backbone, batch_size)
    if files:
        os.makedirs(cache_dir, exist_ok=True)
        for f, x in zip(files, feats):
            np.save(f, x.numpy(), allow_pickle=False)
    return feats


def mean_average_precision(scores: Tensor, labels: np.ndarray) -> float:
    return float(AveragePrecision.calculate(scores, torch.from_numpy(labels)))


def batches(num: int, batch_size: int, generator: torch.Generator):
    order = torch.randperm(num, generator=generator)
    return [order[i:i + batch_size] for i in range(0, num, batch_size)]


def select(feats: List[Tensor], stages: Sequence[int], idx) -> tuple:
    return tuple(feats[STAGES.index(s)][idx].float() for s in stages)


@torch.no_grad()
def predict(model: HeadOnFeatures, feats: List[Tensor],
            stages: Sequence[int], batch_size: int) -> Tensor:
    model.eval()
    num = len(feats[0])
    return torch.cat([
        model(select(feats, stages, slice(i, i + batch_size)))
        for i in range(0, num, batch_size)
    ])


@torch.no_grad()
def attention_stats(model: HeadOnFeatures, feats: List[Tensor],
                    stages: Sequence[int],
                    batch_size: int) -> Optional[Tuple[float, float]]:
    """Percent of all-zero attention rows and mean normalised entropy.

    Over every (image, label, scale) row of the val set; the entropy
    ``H(a) / log M`` (1 = uniform, 0 = one position) is averaged over the
    non-zero rows. None for heads without CMA attention.
    """
    if not isinstance(model.head, CMAHead):
        return None
    model.eval()
    zero, entropy, rows = 0, 0.0, 0
    for i in range(0, len(feats[0]), batch_size):
        maps = model.head.get_attention(
            model.neck_out(select(feats, stages, slice(i, i + batch_size))))
        for a in maps:
            a = a.flatten(2)
            nonzero = a.sum(-1) > 0
            h = -(a * torch.log(a.clamp_min(1e-30))).sum(-1) / np.log(
                a.size(-1))
            zero += int((~nonzero).sum())
            entropy += float(h[nonzero].sum())
            rows += nonzero.numel()
    return 100 * zero / rows, entropy / max(rows - zero, 1)


def train_head(variant, train_feats, train_labels, label_state_fn: Callable,
               args, seed: int):
    """Train one head; return the model and its seconds of training."""
    stages, neck, head = variant
    torch.manual_seed(seed)
    model = HeadOnFeatures(neck, head)
    model.init_weights()
    label_state_fn(model)
    samples = [
        DataSample().set_gt_label(np.flatnonzero(row).tolist())
        for row in train_labels
    ]
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr,
                                  weight_decay=args.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    steps = args.epochs * -(-len(samples) // args.batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    start = time.perf_counter()
    model.train()
    for _ in range(args.epochs):
        for idx in batches(len(samples), args.batch_size, generator):
            loss = model.head.loss(
                model.neck_out(select(train_feats, stages, idx)),
                [samples[i] for i in idx.tolist()])['loss']
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
    return model, time.perf_counter() - start


#: What every job reads: features, labels, classes, variants, args (set
#: before the workers fork).
_DATA: tuple = ()


def run_job(job: Tuple[int, str]) -> Dict[str, list]:
    """Train head ``name`` with ``seed``; return its metrics as lists."""
    seed, name = job
    train_feats, train_labels, val_feats, val_labels, classes, variants, \
        args = _DATA
    stages = variants[name][0]

    def fill(model):
        # ASGE on the training labels, fitted with this seed; a head that
        # declares a graph (ML-GCN) gets ML-GCN's released graph, and its
        # ASGE vectors are fitted on that graph.
        needs = mmcma.label_state_requirements(model)
        if needs:
            graph = (dict(kind='mlgcn', variant='released', t=0.4)
                     if 'graph' in needs else None)
            mmcma.fill_label_state(model, train_labels, classes=classes,
                                   graph=graph,
                                   embedding=dict(type='asge', seed=seed),
                                   progress=False)

    model, seconds = train_head(variants[name], train_feats, train_labels,
                                fill, args, seed)
    res = dict(time=[seconds],
               val=[mean_average_precision(
                   predict(model, val_feats, stages, 256), val_labels)],
               train=[mean_average_precision(
                   predict(model, train_feats, stages, 256), train_labels)])
    stats = attention_stats(model, val_feats, stages, 256)
    if stats is not None:
        res.update(zero=[stats[0]], entropy=[stats[1]])
    taus = [
        round(float(m.temperature), 4) for m in model.modules()
        if getattr(m, 'score', None) == 'softmax'
    ]
    print(f'seed {seed} {name}: val mAP {res["val"][0]:.2f}, train mAP '
          f'{res["train"][0]:.2f}, {seconds:.0f} s' +
          (f', zero rows {stats[0]:.1f} %, entropy {stats[1]:.3f}'
           if stats else '') + (f', learnt temperature {taus}' if taus
                                else ''), flush=True)
    return res


def fmt(values: List[float], digits: int = 1) -> str:
    if not values:
        return '-'
    std = np.std(values, ddof=1) if len(values) > 1 else 0.0
    return f'{np.mean(values):.{digits}f} ± {std:.{digits}f}'


def run(args) -> str:
    """Train every head for every seed; return the markdown table."""
    data = {}
    for split in ('train', 'val'):
        ann = getattr(args, f'{split}_ann') or \
            f'annotations/instances_{split}.json'
        prefix = getattr(args, f'{split}_prefix') or split
        dataset = build_dataset(args.data_root, ann, prefix, args.img_size)
        start = time.perf_counter()
        feats = cached_features(dataset, osp.join(args.data_root, ann),
                                args.img_size, args.batch_size, args.cache)
        print(f'{split}: {len(dataset)} images, features in '
              f'{time.perf_counter() - start:.0f} s: '
              f'{[tuple(f.shape[1:]) for f in feats]}', flush=True)
        data[split] = (feats, get_label_matrix(dataset).astype(np.float32),
                       dataset.metainfo['classes'])
    train_feats, train_labels, classes = data['train']
    val_feats, val_labels, _ = data['val']
    variants = head_variants(len(classes), args.reduced_channels,
                             args.embed_dim)
    unknown = sorted(set(args.heads) - set(variants))
    if unknown:
        raise SystemExit(f'unknown heads {unknown}; choose from '
                         f'{sorted(variants)}')
    global _DATA
    _DATA = (train_feats, train_labels, val_feats, val_labels, classes,
             variants, args)
    # Costly heads first, so that parallel workers finish together.
    jobs = [(seed, name) for name in reversed(args.heads)
            for seed in args.seeds]
    if args.workers > 1:
        # fork: the workers share the cached features (copy-on-write).
        with ProcessPoolExecutor(args.workers,
                                 mp_context=get_context('fork'),
                                 initializer=torch.set_num_threads,
                                 initargs=(args.threads, )) as pool:
            done = list(pool.map(run_job, jobs))
    else:
        done = [run_job(job) for job in jobs]
    results: Dict[str, Dict[str, list]] = {
        h: dict(val=[], train=[], zero=[], entropy=[], time=[])
        for h in args.heads
    }
    for (_, name), res in sorted(zip(jobs, done)):
        for key, value in res.items():
            results[name][key] += value
    lines = [
        '| head | val mAP | train mAP | zero attention rows (%) | '
        'attention entropy | train time (s) |', '|---|---|---|---|---|---|'
    ]
    for name, res in results.items():
        lines.append(f'| {name} | {fmt(res["val"])} | {fmt(res["train"])} | '
                     f'{fmt(res["zero"])} | {fmt(res["entropy"], 3)} | '
                     f'{np.mean(res["time"]):.0f} |')
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', required=True)
    parser.add_argument('--train-ann', help='default: annotations/'
                        'instances_train.json under --data-root')
    parser.add_argument('--val-ann')
    parser.add_argument('--train-prefix', help='image folder, default train')
    parser.add_argument('--val-prefix')
    parser.add_argument('--img-size', type=int, default=192)
    parser.add_argument('--heads', nargs='+',
                        default=['linear', 'csra', 'ml-gcn', 'self', 'cma',
                                 'cma-softmax', 'ms-cma'])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=8)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--weight-decay', type=float, default=1e-4)
    parser.add_argument('--reduced-channels', type=int, default=256)
    parser.add_argument('--embed-dim', type=int, default=128)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads per process')
    parser.add_argument('--workers', type=int, default=1,
                        help='processes training heads in parallel')
    parser.add_argument('--cache', help='folder to keep the features in '
                        '(.npy); default: memory only')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    # Quiet mmengine's per-parameter init report.
    MMLogger.get_instance('bench_heads_real', log_level='WARNING')
    start = time.perf_counter()
    table = run(args)
    print('\nCommand: `' + ' '.join(
        shlex.quote(a) for a in ['python', 'benchmarks/bench_heads_real.py',
                                 *(sys.argv[1:] if argv is None else argv)])
          + '`')
    print(f'EfficientNet-Lite0 (ImageNet, frozen), {args.img_size} px, '
          f'{args.epochs} epochs, batch {args.batch_size}, AdamW lr '
          f'{args.lr}, seeds {args.seeds}, {args.workers} worker(s) x '
          f'{args.threads} thread(s); total '
          f'{time.perf_counter() - start:.0f} s\n')
    print(table)


if __name__ == '__main__':
    main()
