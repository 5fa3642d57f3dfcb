"""tools/dist_train.sh and tools/dist_test.sh on the CPU (gloo, 2 processes).

Two processes with 4 images each must train exactly like one process with 8:
DDP averages the gradients of the two halves of each global batch. The test
model uses GroupNorm instead of BatchNorm (whose batch statistics would
differ per process; torch's SyncBatchNorm needs a GPU), plain SGD and no
random augmentation, and the sampler does not shuffle, so the two runs see
the same global batches and must end with the same weights and metrics.
"""
import glob
import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from mmcma.compat import load_local_checkpoint
from mmcma.datasets.synthetic_scenes import generate
from tests.helpers.tool_runner import ROOT

TEST_CONFIG = """
_base_ = [{base!r}]
custom_imports = dict(imports=['mmcma', 'tests.helpers.dist_probe'],
                      allow_failed_imports=False)
model = dict(backbone=dict(norm_cfg=dict(type='GN', num_groups=4)),
             neck=dict(norm_cfg=dict(type='GN', num_groups=4)))
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='SGD', lr=0.1, momentum=0.9))
_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    dataset=dict(data_root={data!r}, pipeline=_pipeline),
    sampler=dict(shuffle=False))
val_dataloader = dict(batch_size=4, dataset=dict(data_root={data!r}))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(save_best=None))
custom_hooks = [
    dict(type='LabelStateHook', graph=dict(kind='conditional'),
         progress=False),
    dict(type='LabelStateProbe'),
]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def start():
    """``start(args, cwd)`` starts a tool or dist script in ``cwd`` (CPU,
    1 thread per process); whatever still runs at the end is killed."""
    procs = []

    def run(args, cwd):
        env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
                   PYTHON=sys.executable, PORT=str(free_port()),
                   PYTHONPATH=os.pathsep.join([
                       ROOT, os.environ.get('PYTHONPATH', '')
                   ]),
                   CUDA_VISIBLE_DEVICES='')
        procs.append(subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True))
        return procs[-1]

    yield run
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()


def finish(proc, timeout=600) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-4000:]
    return out


def val_metrics(work_dir: str) -> dict:
    """The last validation metrics that mmengine logged in ``work_dir``."""
    lines = open(glob.glob(f'{work_dir}/*/vis_data/scalars.json')[0])
    logged = [json.loads(line) for line in lines]
    last = next(m for m in reversed(logged) if 'multi-label/mAP' in m)
    return {k: v for k, v in last.items() if k.startswith('multi-label/')}


def probe(work_dir: str, rank: int) -> dict:
    with open(os.path.join(work_dir, f'probe_rank{rank}.json')) as f:
        return json.load(f)


@pytest.mark.slow
def test_two_cpu_processes_train_and_test_like_one(tmp_path, start):
    data = str(tmp_path / 'scenes')
    generate(data, 16, 8, 32, seed=0)
    base = os.path.join(
        ROOT, 'configs/demo/mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
    # A relative config path in another folder: the scripts must not cd.
    (tmp_path / 'cfg.py').write_text(TEST_CONFIG.format(base=base, data=data))
    tools = os.path.join(ROOT, 'tools')

    one = start([sys.executable, f'{tools}/train.py', 'cfg.py', '--work-dir',
                 'one', '--cfg-options', 'train_dataloader.batch_size=8'],
                tmp_path)
    two = start([f'{tools}/dist_train.sh', 'cfg.py', '2', '--work-dir', 'two',
                 '--cfg-options', 'train_dataloader.batch_size=4'], tmp_path)
    finish(one)
    # Testing the 1-process checkpoint in 2 processes (while ``two`` runs).
    test = start([f'{tools}/dist_test.sh', 'cfg.py', 'one/epoch_1.pth', '2',
                  '--work-dir', 'test', '--metrics-out', 'metrics.json'],
                 tmp_path)
    log = finish(two)
    assert "dist_cfg: {'backend': 'gloo'}" in log
    finish(test)

    one_dir, two_dir = str(tmp_path / 'one'), str(tmp_path / 'two')
    weights = [load_local_checkpoint(f'{d}/epoch_1.pth')['state_dict']
               for d in (one_dir, two_dir)]
    assert weights[0].keys() == weights[1].keys()
    for key, value in weights[0].items():
        if value.is_floating_point():
            torch.testing.assert_close(weights[1][key], value, rtol=0,
                                       atol=1e-5,
                                       msg=lambda m, k=key: f'{k}: {m}')
    expected = val_metrics(one_dir)
    assert val_metrics(two_dir) == pytest.approx(expected, abs=1e-5)

    # Rank 0 computes the label state (embeddings), rank 1 receives it.
    ranks = [probe(two_dir, 0), probe(two_dir, 1)]
    assert [r['computed'] for r in ranks] == [1, 0]
    assert ranks[1]['state'] == ranks[0]['state'] == probe(one_dir, 0)['state']
    embedding = ranks[1]['state']['head.embedding']
    assert len(embedding) == 12 and any(any(row) for row in embedding)

    # Testing in 2 processes gives the metrics of the 1-process run.
    with open(tmp_path / 'metrics.json') as f:
        tested = json.load(f)
    assert {k: tested[k] for k in expected} == pytest.approx(expected,
                                                             abs=1e-5)
