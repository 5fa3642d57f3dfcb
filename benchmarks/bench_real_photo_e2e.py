"""Every family fine-tuned end to end on real-photo mosaics, by the tools.

Builds the real-photo mosaic set once (``benchmarks/real_photo_mosaics.py
--source photos``; reused when its annotation files exist), then trains each
family's config of ``configs/real_photo/`` (the ImageNet-pretrained
EfficientNet-Lite0 wrapped by each family, one recipe) with
``tools/train.py`` for each seed, one subprocess per run, ``--workers`` runs
at a time with ``--threads`` torch threads each. The config validates on
the val split after its last epoch (``test_dataloader`` is the same split):
those are the metrics collected, mAP and the papers' CF1 / OF1
(``PaperMultiLabelMetric``), with each run's wall time and CPU time (user +
system of the process, ``os.wait4``). ``--test`` also runs ``tools/test.py``
on the last checkpoint and takes its metrics instead.

Each run writes ``WORK_DIR/<family>_seed<S>/result.json``; a run whose file
exists is not run again (``--rerun`` forces it), so the table can be filled
in several sittings. Prints (and with ``--out`` writes) a markdown table:
mean ± std over the seeds present, the chance mAP of the val split (each
label's AP under random scores is its frequency: their mean), and the exact
command of every run.

Example::

    python benchmarks/bench_real_photo_e2e.py --models linear cma \
        --seeds 0 1 2 --workers 2 --out /tmp/real_photo_e2e.md
"""
import argparse
import glob
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_DIR = osp.join(ROOT, 'configs', 'real_photo')
#: The set the configs read (``data_root`` of their dataset base).
DATA_ROOT = 'data/photo_mosaics'
NUM_TRAIN, NUM_VAL = 600, 300
#: Metrics taken from the final validation (PaperMultiLabelMetric's keys).
METRICS = ('mAP', 'CF1', 'OF1')
PREFIX = 'multi-label/'


def family_configs(config_dir: str = CONFIG_DIR) -> Dict[str, str]:
    """family (the config name's algo field) -> config path."""
    paths = sorted(glob.glob(osp.join(config_dir, '*.py')))
    return {osp.basename(p).split('_')[0]: p for p in paths}


def ensure_data(data_root: str, num_train: int, num_val: int,
                seed: int = 0) -> None:
    """Write the photo mosaics unless both annotation files exist."""
    ann = [osp.join(data_root, 'annotations', f'instances_{s}.json')
           for s in ('train', 'val')]
    if all(osp.isfile(a) for a in ann):
        return
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    from real_photo_mosaics import generate
    generate(data_root, 'photos', num_train, num_val, seed)


def chance_map(ann_file: str) -> float:
    """Chance mAP (%): the mean label frequency.

    Under scores independent of the labels, a label's expected AP is about
    the fraction of images that carry it (a little more: by luck the first
    positives rank high, an excess that shrinks as positives grow in
    number).
    """
    with open(ann_file) as f:
        coco = json.load(f)
    num_images = len(coco['images'])
    present = {(a['image_id'], a['category_id']) for a in coco['annotations']}
    counts = np.zeros(len(coco['categories']))
    for _, cat in present:
        counts[cat - 1] += 1
    return float(100 * np.mean(counts / num_images))


def data_options(data_root: str) -> List[str]:
    """--cfg-options pointing every split at ``data_root``."""
    return [f'{split}_dataloader.dataset.data_root={data_root}'
            for split in ('train', 'val', 'test')]


def train_command(config: str, work_dir: str, seed: int, data_root: str,
                  options: Sequence[str] = (),
                  python: str = sys.executable) -> List[str]:
    """The tools/train.py command of one run (``options``: more
    --cfg-options, e.g. a shorter schedule)."""
    return [python, 'tools/train.py', osp.relpath(config, ROOT),
            '--work-dir', work_dir, '--cfg-options',
            f'randomness.seed={seed}'] + data_options(data_root) + list(
                options)


def test_command(config: str, work_dir: str, data_root: str,
                 python: str = sys.executable) -> List[str]:
    """The tools/test.py command on a run's last checkpoint."""
    with open(osp.join(ROOT, work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    return [python, 'tools/test.py', osp.relpath(config, ROOT), checkpoint,
            '--work-dir', osp.join(work_dir, 'test'), '--cfg-options'
            ] + data_options(data_root)


def last_metrics(work_dir: str) -> Dict[str, float]:
    """The last logged validation / test metrics under ``work_dir``
    (mmengine's ``<timestamp>/vis_data/scalars.json`` or the test's
    ``<timestamp>/<timestamp>.json``)."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')) +
                   glob.glob(osp.join(work_dir, '*', '*.json')),
                   key=osp.getmtime)
    found = {}
    for path in files:
        with open(path) as f:
            for line in f:
                record = json.loads(line) if line.strip() else {}
                if PREFIX + 'mAP' in record:
                    found = {m: float(record[PREFIX + m]) for m in METRICS}
    if not found:
        raise RuntimeError(f'{work_dir}: no {PREFIX}mAP logged')
    return found


def run_timed(cmd: Sequence[str], env: dict, log: str) -> Dict[str, float]:
    """Run ``cmd`` in the repository root; its wall and CPU seconds."""
    start = time.perf_counter()
    with open(log, 'w') as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f'{shlex.join(cmd)} failed ({proc.returncode}); '
                           f'see {log}')
    return dict(wall=time.perf_counter() - start,
                cpu=usage.ru_utime + usage.ru_stime)


def run_one(family: str, config: str, seed: int, args) -> Optional[dict]:
    """Train (and with ``--test`` test) one family at one seed; None when
    ``--collect-only`` finds no result."""
    # Relative to the repository root, where the tools run.
    work_dir = osp.relpath(
        osp.join(osp.abspath(args.work_dir), f'{family}_seed{seed}'), ROOT)
    result_file = osp.join(ROOT, work_dir, 'result.json')
    if osp.isfile(result_file) and not args.rerun:
        with open(result_file) as f:
            return json.load(f)
    if args.collect_only:
        return None
    os.makedirs(osp.join(ROOT, work_dir), exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads),
               PYTHONPATH=os.pathsep.join(
                   [ROOT, os.environ.get('PYTHONPATH', '')]))
    cmd = train_command(config, work_dir, seed, args.data_root,
                        args.cfg_options)
    times = run_timed(cmd, env, osp.join(ROOT, work_dir, 'train.log'))
    commands = [shlex.join(cmd)]
    if args.test:
        tcmd = test_command(config, work_dir, args.data_root)
        test_times = run_timed(tcmd, env,
                               osp.join(ROOT, work_dir, 'test.log'))
        times = {k: times[k] + test_times[k] for k in times}
        commands.append(shlex.join(tcmd))
        metrics = last_metrics(osp.join(ROOT, work_dir, 'test'))
    else:
        metrics = last_metrics(osp.join(ROOT, work_dir))
    result = dict(family=family, seed=seed, config=osp.relpath(config, ROOT),
                  commands=commands, threads=args.threads, **metrics,
                  **times)
    with open(result_file, 'w') as f:
        json.dump(result, f, indent=1)
    print(f'{family} seed {seed}: mAP {metrics["mAP"]:.2f} '
          f'({times["wall"]:.0f} s wall, {times["cpu"]:.0f} s CPU)',
          flush=True)
    return result


def mean_std(values: Sequence[float], digits: int = 1) -> str:
    """``mean ± std`` (sample std, ddof 1; ``-`` for one value)."""
    values = np.asarray(values, float)
    std = f'{values.std(ddof=1):.{digits}f}' if len(values) > 1 else '-'
    return f'{values.mean():.{digits}f} ± {std}'


def markdown_table(results: Sequence[dict], families: Sequence[str],
                   chance: Optional[float] = None) -> str:
    """One row per family (mean ± std over its seeds), then the commands."""
    lines = ['| family | seeds | mAP | CF1 | OF1 | wall (s) | CPU (s) |',
             '|---|---|---|---|---|---|---|']
    for family in families:
        rows = sorted((r for r in results if r['family'] == family),
                      key=lambda r: r['seed'])
        if not rows:
            continue
        cells = [mean_std([r[m] for r in rows]) for m in METRICS]
        cells += [mean_std([r[t] for r in rows], 0) for t in ('wall', 'cpu')]
        seeds = ', '.join(str(r['seed']) for r in rows)
        lines.append(f'| {family} | {seeds} | ' + ' | '.join(cells) + ' |')
    if chance is not None:
        lines.append(f'\nChance mAP of the val split (mean label frequency):'
                     f' {chance:.1f}')
    lines.append('\nCommands (one per run, from the repository root):\n')
    lines.append('```bash')
    for r in sorted(results, key=lambda r: (families.index(r['family']),
                                            r['seed'])):
        lines += [f'OMP_NUM_THREADS={r["threads"]} {c}'
                  for c in r['commands']]
    lines.append('```')
    return '\n'.join(lines)


def parse_args(argv=None):
    families = list(family_configs())
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', default=families,
                        choices=families, help='families to run')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--data-root', default=DATA_ROOT)
    parser.add_argument('--num-train', type=int, default=NUM_TRAIN)
    parser.add_argument('--num-val', type=int, default=NUM_VAL)
    parser.add_argument('--work-dir', default='work_dirs/real_photo_e2e')
    parser.add_argument('--workers', type=int, default=2,
                        help='runs at a time')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads per run')
    parser.add_argument('--test', action='store_true',
                        help='also run tools/test.py; report its metrics')
    parser.add_argument('--rerun', action='store_true',
                        help='run again even where result.json exists')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='more --cfg-options for every training run '
                        '(e.g. train_cfg.max_epochs=1 '
                        'train_cfg.val_interval=1: a shorter table)')
    parser.add_argument('--collect-only', action='store_true',
                        help='run nothing: tabulate the result.json files '
                        'already in --work-dir')
    parser.add_argument('--out', help='write the markdown table here')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    ensure_data(args.data_root, args.num_train, args.num_val)
    configs = family_configs()
    # Seeds outermost: every family gets its first seed before any gets a
    # second, so a stopped run leaves a table with every family in it.
    jobs = [(f, configs[f], s) for s in args.seeds for f in args.models]
    with ThreadPoolExecutor(args.workers) as pool:
        futures = [pool.submit(run_one, *job, args) for job in jobs]
        results = []
        for (family, _, seed), future in zip(jobs, futures):
            try:
                result = future.result()
                if result is not None:
                    results.append(result)
            except RuntimeError as e:
                print(f'{family} seed {seed} failed: {e}', file=sys.stderr)
    chance = chance_map(osp.join(args.data_root, 'annotations',
                                 'instances_val.json'))
    table = markdown_table(results, list(args.models), chance)
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table + '\n')


if __name__ == '__main__':
    main()
