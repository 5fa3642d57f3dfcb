"""Where the spatial-context network spends its time, module by module.

Builds the spatial model of ``bench_spatial_context.py`` (same options),
runs one warm-up and then one profiled training step and one profiled
inference pass under ``torch.profiler``, with every stage below wrapped in
a ``record_function`` range by forward hooks, and prints each stage's
forward CPU time (its range's total) per pass. Backward time cannot be
split by module this way; its largest autograd ops are printed instead.

Example::

    PYTHONPATH=. python benchmarks/profile_spatial_context.py --depth 50 \
        --img-size 448 --batch-size 2 --threads 1
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List

import torch
from mmpretrain.registry import MODELS
from torch import nn
from torch.autograd.profiler import record_function
from torch.profiler import ProfilerActivity, profile

import mmcma  # noqa: F401  (registers the models)

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from bench_spatial_context import (add_model_arguments, inference,  # noqa
                                   model_configs, parse_model_args,
                                   random_samples, train_step)

#: Stages timed, as attribute paths of the spatial model.
STAGES = ('backbone', 'neck', 'head.patch_generator',
          'head.patch_generator.rpn.head', 'head.roi_extractor.pooler',
          'head.roi_extractor.reducer', 'head.branches.object_head',
          'head.branches.context_head')


def _submodule(model: nn.Module, path: str):
    for name in path.split('.'):
        model = getattr(model, name, None)
        if model is None:
            return None
    return model


def add_ranges(model: nn.Module) -> List[str]:
    """Wrap each stage of :data:`STAGES` the model has in a profiler range
    named after it; returns the names wrapped."""
    wrapped = []
    for path in STAGES:
        module = _submodule(model, path)
        if module is None:
            continue
        ranges: List[record_function] = []

        def enter(_module, _args, path=path, ranges=ranges):
            ranges.append(record_function(f'stage::{path}'))
            ranges[-1].__enter__()

        def leave(_module, _args, _out, ranges=ranges):
            ranges.pop().__exit__(None, None, None)

        module.register_forward_pre_hook(enter)
        module.register_forward_hook(leave)
        wrapped.append(path)
    return wrapped


def stage_times(prof, names: List[str]) -> Dict[str, float]:
    """Total CPU milliseconds of each stage's range."""
    totals = {e.key: e.cpu_time_total / 1e3 for e in prof.key_averages()}
    return {n: totals.get(f'stage::{n}', 0.0) for n in names}


def backward_ops(prof, k: int = 6) -> List[tuple]:
    """The ``k`` autograd ops with the largest CPU time (ms)."""
    events = [e for e in prof.key_averages()
              if e.key.startswith('autograd::engine::evaluate_function')]
    events.sort(key=lambda e: -e.cpu_time_total)
    return [(e.key.split(': ')[-1], e.cpu_time_total / 1e3)
            for e in events[:k]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_model_arguments(parser)  # --old: profile the model as it was
    args = parse_model_args(parser)
    configs = model_configs(args)
    cfg = configs['spatial-context (before)' if args.old else
                  'spatial-context']
    model = MODELS.build(cfg)
    names = add_ranges(model)
    inputs = torch.randn(args.batch_size, 3, args.img_size, args.img_size)
    samples = random_samples(args.batch_size, args.num_classes,
                             args.img_size)
    sgd = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    train_step(model, sgd, inputs, samples)
    inference(model, inputs)
    with profile(activities=[ProfilerActivity.CPU]) as train_prof:
        train_total = train_step(model, sgd, inputs, samples)
    with profile(activities=[ProfilerActivity.CPU]) as infer_prof:
        infer_total = inference(model, inputs)
    train, infer = stage_times(train_prof, names), stage_times(
        infer_prof, names)
    model_name = 'before' if args.old else 'paper defaults'
    print(f'{model_name}: ResNet-{args.depth}, {args.img_size} px, batch '
          f'{args.batch_size}, {args.threads} threads; forward CPU ms per '
          'stage (nested stages are inside their parents)')
    print('| stage | training forward (ms) | inference (ms) |')
    print('|---|---|---|')
    for name in names:
        print(f'| {name} | {train[name]:.0f} | {infer[name]:.0f} |')
    print(f'| whole step / pass (wall) | {1e3 * train_total:.0f} | '
          f'{1e3 * infer_total:.0f} |')
    print('largest backward ops (ms):', ', '.join(
        f'{op} {ms:.0f}' for op, ms in backward_ops(train_prof)))


if __name__ == '__main__':
    main()
