"""The demo table: each demo config trained and tested with several seeds.

Runs ``tools/train.py`` and ``tools/test.py`` for every config and seed on
the embedded scenes (generate them first with ``python -m
mmcma.datasets.synthetic_scenes --out data/scenes``), one torch thread each,
and prints mAP, CF1 and OF1 as mean ± std over the seeds (the papers'
definitions, ML-GCN's evaluation: CF1 = 2 CP CR / (CP + CR) of the label
means, OF1 = 2 OP OR / (OP + OR) over all decisions, threshold 0.5;
``mmcma.evaluation.PaperMultiLabelMetric``)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_demo_seeds.py \\
        --seeds 0 1 2 --work-dir work_dirs/demo_seeds
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
from typing import Dict, List

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    'linear head': 'configs/demo/'
    'linear_resnet18-w16_1xb16-coslr-24e_scenes-64px.py',
    'CMA (C5)': 'configs/demo/cma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py',
    'MS-CMA': 'configs/demo/mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py',
    'ML-GCN': 'configs/demo/mlgcn_resnet18-w16_1xb16-coslr-24e_scenes-64px.py',
    'KSSNet': 'configs/demo/'
    'kssnet_resnet18-w16_1xb16-coslr-24e_scenes-64px.py',
    'spatial-context': 'configs/demo/'
    'spatial-context_resnet18-w16_1xb16-coslr-24e_scenes-64px.py',
}
METRICS = {
    'mAP': 'multi-label/mAP',
    'CF1': 'multi-label/CF1',
    'OF1': 'multi-label/OF1',
}
#: Printed above the table: which definitions its columns use.
DEFINITIONS = ("mAP, CF1, OF1: the papers' definitions (ML-GCN's evaluation, "
               'threshold 0.5): CF1 = 2 CP CR / (CP + CR), OF1 = 2 OP OR / '
               '(OP + OR)')


def run(config: str, seed: int, work_dir: str) -> Dict[str, float]:
    """Train and test one config with one seed; return its metrics."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    options = ['--cfg-options', f'randomness.seed={seed}']
    subprocess.run([sys.executable, 'tools/train.py', config, '--work-dir',
                    work_dir, *options], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    metrics_file = osp.join(work_dir, 'metrics.json')
    subprocess.run([sys.executable, 'tools/test.py', config, checkpoint,
                    '--work-dir', work_dir, '--metrics-out', metrics_file,
                    *options], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    with open(metrics_file) as f:
        return json.load(f)


def summary(values: List[float]) -> str:
    if len(values) < 2:
        return f'{values[0]:.2f}'
    return f'{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}'


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/demo_seeds')
    parser.add_argument('--models', nargs='+', choices=list(CONFIGS),
                        default=list(CONFIGS), help='rows to run')
    args = parser.parse_args(argv)
    rows = []
    for name in args.models:
        config = CONFIGS[name]
        results = [
            run(config, seed, osp.join(args.work_dir,
                                       f'{osp.basename(config)[:-3]}_s{seed}'))
            for seed in args.seeds
        ]
        cells = [summary([r[key] for r in results]) for key in METRICS.values()]
        per_seed = ', '.join(f'{r[METRICS["mAP"]]:.2f}' for r in results)
        rows.append(f'| {name} | ' + ' | '.join(cells) + f' | {per_seed} |')
    print(f'seeds {args.seeds}, 1 torch thread; {DEFINITIONS}\n')
    print('| model | ' + ' | '.join(METRICS) + ' | mAP per seed |')
    print('| --- ' * (len(METRICS) + 2) + '|')
    print('\n'.join(rows))


if __name__ == '__main__':
    main()
