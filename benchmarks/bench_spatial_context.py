"""Cost of the spatial-context network against a linear head, one backbone.

Builds two models on the same ResNet:

* ``linear``: mmpretrain's ``ImageClassifier``, last stage, global average
  pooling + ``MultiLabelLinearClsHead`` (the baseline);
* ``spatial-context``: :class:`SpatialContextClassifier` as the paper
  configs build it (``configs/_base_/models/spatial-context_*``: its FPN,
  RPN, RoI and MLP sizes), anchors and RoI levels scaled to the image size;
* with ``--old``, also ``spatial-context (before)``: the model as this
  benchmark built it before the cheaper paper defaults (256-channel FPN,
  RPN on all four levels, 7x7x256 RoIs, 1024-wide MLPs);

and times, interleaved within every repetition (the order rotates, so load
drift on a shared machine hits both alike), one training step (forward,
all losses, backward, SGD step; three random ground-truth boxes per image
for the spatial model) and one inference pass (``mode='predict'`` under
``no_grad``). It prints median times, the median of the per-repetition
ratios to the baseline, and parameter counts.

Example::

    python benchmarks/bench_spatial_context.py --depth 50 --img-size 224 \
        --batch-size 4 --reps 5 --threads 2
"""
import argparse
import copy
import os.path as osp
import statistics
import sys
import time
from functools import partial
from typing import Dict, List

import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmcma  # noqa: F401  (registers the models)

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from bench_heads import count_params, interleaved  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAPER_MODEL = osp.join(ROOT, 'configs', '_base_', 'models',
                       'spatial-context_resnext101-32x4d.py')
STAGE_CHANNELS = {
    18: (64, 128, 256, 512),
    34: (64, 128, 256, 512),
    50: (256, 512, 1024, 2048),
    101: (256, 512, 1024, 2048)
}


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that pick the models and the load."""
    parser.add_argument('--depth', type=int, default=50)
    parser.add_argument('--img-size', type=int, default=224)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--num-classes', type=int, default=80)
    parser.add_argument('--post-nms', type=int, default=300,
                        help='object patches per image (train and test)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--old', action='store_true',
                        help='also the spatial model as it was before the '
                        'cheaper paper defaults')


def parse_model_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse, then set the threads and the seed."""
    args = parser.parse_args()
    if args.img_size % 32:
        raise SystemExit('--img-size must be a multiple of 32')
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    return args


def _scaled(sizes, scale: float) -> tuple:
    return tuple(tuple(round(s * scale) for s in level) for level in sizes)


def paper_spatial_model(depth: int, num_classes: int, img_size: int,
                        post_nms: int) -> dict:
    """The paper configs' model (``configs/_base_/models/spatial-context_*``:
    its neck width, levels and head) on a ResNet of ``depth``, anchors and
    canonical RoI scale scaled from 448 px to ``img_size``, ``post_nms``
    object patches per image in training and at test."""
    model = copy.deepcopy(Config.fromfile(PAPER_MODEL).model.to_dict())
    scale = img_size / 448
    indices = tuple(model['backbone']['out_indices'])
    head = model['head']
    head['num_classes'] = num_classes
    head['train_cfg']['sampler']['num'] = post_nms
    extractor = head['roi_extractor']
    extractor['canonical_scale'] = round(extractor['canonical_scale'] * scale)
    generator = head['patch_generator']
    anchors = generator['anchor_generator']
    anchors['sizes'] = _scaled(anchors['sizes'], scale)
    generator['train_cfg']['post_nms_top_n'] = post_nms
    generator['test_cfg']['post_nms_top_n'] = post_nms
    return dict(
        type='SpatialContextClassifier',
        backbone=dict(type='ResNet', depth=depth, out_indices=indices),
        neck=dict(model['neck'],
                  in_channels=[STAGE_CHANNELS[depth][i] for i in indices]),
        head=head)


def main_branch_spatial_model(depth: int, num_classes: int, img_size: int,
                              post_nms: int) -> dict:
    """The spatial model this benchmark timed before the cheaper paper
    defaults (4 levels of 256 channels, torchvision's RPN head on all of
    them, 7x7 RoIs of 256 channels, 1024-wide MLPs)."""
    scale = img_size / 448
    return dict(
        type='SpatialContextClassifier',
        backbone=dict(type='ResNet', depth=depth, out_indices=(0, 1, 2, 3)),
        neck=dict(type='FeaturePyramidNeck',
                  in_channels=STAGE_CHANNELS[depth], out_channels=256),
        head=dict(type='SpatialContextHead',
                  num_classes=num_classes,
                  patch_generator=dict(
                      type='RPNPatchGenerator',
                      anchor_generator=dict(sizes=_scaled(
                          ((16, 32), (32, 64), (64, 128), (128, 256)),
                          scale)),
                      train_cfg=dict(post_nms_top_n=post_nms),
                      test_cfg=dict(post_nms_top_n=post_nms)),
                  roi_extractor=dict(type='PatchRoIExtractor',
                                     in_channels=256,
                                     canonical_scale=round(128 * scale)),
                  train_cfg=dict(sampler=dict(type='BalancedRandomSampler',
                                              num=post_nms))))


def model_configs(args: argparse.Namespace) -> Dict[str, dict]:
    """The linear baseline, the paper configs' spatial model and, with
    ``args.old``, the spatial model as it was timed before."""
    depth, num_classes, img_size, post_nms = (args.depth, args.num_classes,
                                              args.img_size, args.post_nms)
    configs = {
        'linear':
        dict(type='ImageClassifier',
             backbone=dict(type='ResNet', depth=depth, out_indices=(3, )),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='MultiLabelLinearClsHead',
                       num_classes=num_classes,
                       in_channels=STAGE_CHANNELS[depth][-1])),
        'spatial-context':
        paper_spatial_model(depth, num_classes, img_size, post_nms),
    }
    if getattr(args, 'old', False):
        configs['spatial-context (before)'] = main_branch_spatial_model(
            depth, num_classes, img_size, post_nms)
    return configs


def random_samples(batch: int, num_classes: int,
                   img_size: int) -> List[DataSample]:
    """Three labels and three boxes (8 px to half the image) per image."""
    samples = []
    for _ in range(batch):
        labels = torch.randperm(num_classes)[:3]
        corner = torch.rand(3, 2) * img_size / 2
        side = 8 + torch.rand(3, 2) * img_size / 2
        sample = DataSample(metainfo=dict(img_shape=(img_size, img_size)))
        sample.set_gt_label(labels.tolist())
        sample.gt_bboxes = torch.cat([corner, corner + side], dim=1)
        sample.gt_bboxes_labels = labels
        samples.append(sample)
    return samples


def train_step(model, optimizer, inputs, samples) -> float:
    """Seconds of one forward + all losses + backward + SGD step."""
    model.train()
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    loss = sum(model(inputs, samples, mode='loss').values())
    loss.backward()
    optimizer.step()
    return time.perf_counter() - start


def inference(model, inputs) -> float:
    """Seconds of one ``predict`` pass without gradients."""
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        model(inputs, mode='predict')
    return time.perf_counter() - start


def summary(times: Dict[str, List[float]]) -> Dict[str, tuple]:
    """(median seconds, median ratio to linear) per model."""
    base = times['linear']
    return {
        name: (statistics.median(t),
               statistics.median(a / b for a, b in zip(t, base)))
        for name, t in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_model_arguments(parser)
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    args = parse_model_args(parser)
    models = {
        name: MODELS.build(cfg)
        for name, cfg in model_configs(args).items()
    }
    inputs = torch.randn(args.batch_size, 3, args.img_size, args.img_size)
    samples = random_samples(args.batch_size, args.num_classes,
                             args.img_size)
    train_steps, infer_steps = {}, {}
    for name, model in models.items():
        sgd = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
        train_steps[name] = partial(train_step, model, sgd, inputs, samples)
        infer_steps[name] = partial(inference, model, inputs)
    train = interleaved(train_steps, args.reps, args.warmup)
    infer = interleaved(infer_steps, args.reps, args.warmup)

    print(f'ResNet-{args.depth}, {args.img_size} px, batch '
          f'{args.batch_size}, {args.num_classes} classes, {args.post_nms} '
          f'object patches per image, {args.threads} threads, {args.reps} '
          f'reps (+{args.warmup} warm-up)')
    print('| model | params (M) | train step median (s) | train ratio | '
          'inference median (s) | inference ratio |')
    print('|---|---|---|---|---|---|')
    train_sum, infer_sum = summary(train), summary(infer)
    for name, model in models.items():
        print(f'| {name} | {count_params(model) / 1e6:.2f} | '
              f'{train_sum[name][0]:.3f} | {train_sum[name][1]:.2f} | '
              f'{infer_sum[name][0]:.3f} | {infer_sum[name][1]:.2f} |')
    print('raw times (s):', {
        f'{name} {label}': [round(t, 3) for t in times[name]]
        for label, times in (('train', train), ('inference', infer))
        for name in models
    })


if __name__ == '__main__':
    main()
