"""tools/test.py and tools/train.py take mmpretrain's flags; Slurm scripts.

The subprocess runs share one tiny linear demo model (random weights, saved
as a checkpoint) and six 32 px scenes; the expected scores are computed here
by running the same checkpoint on the images (and their mirror images).
"""
import importlib.util
import json
import os
import socket
import stat
import subprocess
import sys

import mmcv
import mmengine
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.evaluation import AveragePrecision
from mmpretrain.structures import DataSample
from sklearn.metrics import average_precision_score

from mmcma.apis import init_model
from mmcma.datasets.synthetic_scenes import generate
from mmcma.engine.checks import bare_model
from mmcma.engine.cli import slurm_environment
from mmcma.engine.hooks import MultiLabelVisualizationHook
from mmcma.engine.tool_options import (apply_tta, apply_visualization,
                                       flip_tta_pipeline)
from mmcma.models import MultiLabelScoreTTA
from mmcma.visualization import (AttentionVisualizer, figure_to_rgb,
                                 label_scores_figure)
from tests.helpers.tool_runner import ROOT, run_tool

CONFIG = os.path.join(ROOT, 'configs', 'demo',
                      'linear_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
VIDEO_CONFIG = os.path.join(ROOT, 'configs', 'video',
                            'cma_snet-w64_1xb32-coslr-20e_yt8m-demo.py')
NUM_VAL = 6


def load_tool(name: str):
    """``tools/<name>.py`` as a module (its ``parse_args``, ``main``)."""
    spec = importlib.util.spec_from_file_location(
        f'mmcma_tool_{name}', os.path.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Six val scenes, a checkpoint and the scores it gives by hand."""
    root = tmp_path_factory.mktemp('parity')
    data = str(root / 'scenes')
    generate(data, 1, NUM_VAL, 32, seed=0)
    cfg = Config.fromfile(CONFIG)
    # Not the config's seed (0): a checkpoint that failed to load would
    # leave other weights.
    torch.manual_seed(3)
    model = init_model(cfg)
    ckpt = str(root / 'model.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    return dict(root=root, data=data, ckpt=ckpt)


def hand_scores(ckpt: str, paths, flip: bool) -> np.ndarray:
    """(S, N) probabilities of the images (read BGR and resized bilinearly
    to the demo's 64 x 64, as the test pipeline does), or of their
    horizontal mirror images."""
    model = init_model(CONFIG, ckpt)
    scores = []
    for path in paths:
        image = mmcv.imresize(mmcv.imread(path), (64, 64))
        if flip:
            image = np.ascontiguousarray(image[:, ::-1])
        data = dict(inputs=[torch.from_numpy(image).permute(2, 0, 1)])
        with torch.no_grad():
            [pred] = model.test_step(data)
        scores.append(pred.pred_score.numpy())
    return np.stack(scores)


def data_options(data: str):
    return ['--cfg-options', f'test_dataloader.dataset.data_root={data}']


def val_paths(data: str):
    return [os.path.join(data, 'val', f'{i:06d}.png') for i in range(NUM_VAL)]


@pytest.fixture(scope='module')
def plain_run(setup):
    """One plain test run: metrics to YAML and JSON, figures of every
    second image."""
    root = setup['root']
    out = run_tool('tools/test.py', CONFIG, setup['ckpt'], '--work-dir',
                   str(root / 'work'), '--out-item', 'metrics', '--out',
                   str(root / 'metrics.yaml'), '--metrics-out',
                   str(root / 'metrics.json'), '--show-dir',
                   str(root / 'show'), '--interval', '2',
                   *data_options(setup['data']))
    return dict(setup, log=out)


@pytest.mark.slow
def test_out_item_metrics_holds_the_metrics(plain_run):
    root = plain_run['root']
    metrics = mmengine.load(str(root / 'metrics.yaml'))
    with open(root / 'metrics.json') as f:
        assert metrics == pytest.approx(json.load(f))
    assert 'metrics saved to' in plain_run['log']
    # The mAP is the one of the model's scores computed here.
    dataset = Config.fromfile(CONFIG).test_dataloader.dataset
    from mmpretrain.registry import DATASETS
    dataset = DATASETS.build(dict(dataset, data_root=plain_run['data']))
    targets = np.zeros((NUM_VAL, 12), dtype=int)
    for i in range(NUM_VAL):
        info = dataset.get_data_info(i)
        assert info['img_path'] == val_paths(plain_run['data'])[i]
        targets[i, info['gt_label']] = 1
    scores = hand_scores(plain_run['ckpt'], val_paths(plain_run['data']),
                         flip=False)
    # The papers' mAP leaves labels without a positive image out (their AP
    # is undefined, as in sklearn); mmpretrain's AveragePrecision counts
    # them as AP 0, a mean smaller by the share of labels present.
    present = targets.sum(0) > 0
    assert not present.all()  # the case where the two differ
    expected = 100 * np.mean([
        average_precision_score(targets[:, k], scores[:, k])
        for k in np.flatnonzero(present)
    ])
    assert metrics['multi-label/mAP'] == pytest.approx(expected, abs=1e-3)
    assert metrics['multi-label/labels_without_positives'] == \
        (~present).sum()
    assert AveragePrecision.calculate(
        torch.from_numpy(scores), torch.from_numpy(targets)).item() == \
        pytest.approx(expected * present.mean(), abs=1e-3)


@pytest.mark.slow
def test_show_dir_writes_a_figure_per_interval(plain_run):
    show = plain_run['root'] / 'show'
    assert sorted(os.listdir(show)) == [
        '000000_0.png', '000002_0.png', '000004_0.png'
    ]
    for name in os.listdir(show):
        figure = mmcv.imread(str(show / name))
        assert figure.shape == (300, 800, 3)  # label_scores_figure's size
    # With --show-dir the figures go there only, not to the vis backends.
    work = plain_run['root'] / 'work'
    assert not list(work.glob('*/vis_data/vis_image/*'))


@pytest.mark.slow
def test_tta_pickle_is_the_flip_average(setup):
    root = setup['root']
    out = str(root / 'tta.pkl')
    log = run_tool('tools/test.py', CONFIG, setup['ckpt'], '--work-dir',
                   str(root / 'work_tta'), '--tta', '--out', out,
                   *data_options(setup['data']))
    assert 'predictions saved to' in log
    assert 'The prefix is not set' not in log
    samples = mmengine.load(out)  # a pickle: our own file
    assert len(samples) == NUM_VAL
    paths = [s['img_path'] for s in samples]
    assert paths == val_paths(setup['data'])
    plain = hand_scores(setup['ckpt'], paths, flip=False)
    flipped = hand_scores(setup['ckpt'], paths, flip=True)
    tta = np.stack([s['pred_score'].numpy() for s in samples])
    np.testing.assert_allclose(tta, (plain + flipped) / 2, rtol=0,
                               atol=1e-6)
    # The flip changes the scores: TTA is not the plain prediction.
    assert np.abs(tta - plain).max() > 1e-4
    for sample, score in zip(samples, tta):
        assert sample['pred_label'].tolist() == np.flatnonzero(
            score >= 0.5).tolist()  # the head's thr, on the mean
        assert sample['gt_label'].numel() > 0


def test_merge_preds_averages_and_reselects_labels():
    model = init_model(CONFIG)
    tta = MultiLabelScoreTTA(module=model)
    assert bare_model(tta) is model  # class-count checks see the head
    views = []
    for score in ([0.2, 0.9, 0.55], [0.6, 0.7, 0.35]):
        views.append(DataSample().set_pred_score(torch.tensor(score))
                     .set_pred_label(torch.tensor([0])))
    [merged] = tta.merge_preds([views])
    torch.testing.assert_close(merged.pred_score,
                               torch.tensor([0.4, 0.8, 0.45]))
    assert merged.pred_label.tolist() == [1]  # thr 0.5, not view 1's [0]
    model.head.thr, model.head.topk = None, 2
    [merged] = tta.merge_preds([views])
    assert sorted(merged.pred_label.tolist()) == [1, 2]


def test_flip_pipeline_and_tta_errors():
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
    tta = flip_tta_pipeline(pipeline)
    assert tta[0] == pipeline[0]
    [flips, [pack]] = tta[1]['transforms']
    assert tta[1]['type'] == 'TestTimeAug' and pack == pipeline[1]
    assert [f['prob'] for f in flips] == [0., 1.]  # unflipped view first
    with pytest.raises(ValueError, match='end with PackInputs'):
        flip_tta_pipeline(pipeline[:1])

    cfg = Config.fromfile(CONFIG)
    apply_tta(cfg)
    assert cfg.model.type == 'MultiLabelScoreTTA'
    assert cfg.model.module.head.type == 'MultiLabelLinearClsHead'
    assert cfg.test_dataloader.dataset.pipeline == flip_tta_pipeline(
        Config.fromfile(CONFIG).test_dataloader.dataset.pipeline)
    # The validation loader keeps its pipeline.
    assert cfg.val_dataloader.dataset.pipeline[-1].type == 'PackInputs'
    # The config's own TTA wins.
    cfg = Config.fromfile(CONFIG)
    cfg.tta_model = dict(type='AverageClsScoreTTA')
    cfg.tta_pipeline = [dict(type='LoadImageFromFile'),
                        dict(type='PackInputs')]
    apply_tta(cfg)
    assert cfg.model.type == 'AverageClsScoreTTA'
    assert cfg.test_dataloader.dataset.pipeline == cfg.tta_pipeline

    with pytest.raises(ValueError, match='no pipeline to augment'):
        apply_tta(Config.fromfile(VIDEO_CONFIG))


def test_visualization_needs_its_hook():
    cfg = Config.fromfile(CONFIG)
    apply_visualization(cfg, 'out', False, 3, 1.5)
    hook = cfg.default_hooks.visualization
    assert hook.type == 'MultiLabelVisualizationHook'
    assert (hook.enable, hook.out_dir, hook.interval,
            hook.wait_time) == (True, 'out', 3, 1.5)
    del cfg.default_hooks['visualization']
    with pytest.raises(ValueError, match='MultiLabelVisualizationHook'):
        apply_visualization(cfg, 'out', False, 1, 0)


def test_hook_draws_the_first_view_with_its_scores(tmp_path):
    visualizer = AttentionVisualizer.get_instance(
        'test_parity_hook', vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path / 'backend'))
    classes = ['a', 'b', 'c']
    visualizer.dataset_meta = dict(classes=classes)
    hook = MultiLabelVisualizationHook(enable=True, interval=1,
                                       out_dir=str(tmp_path))
    rng = np.random.default_rng(0)
    bgr = [rng.integers(0, 256, (3, 8, 10), dtype=np.uint8) for _ in '01']
    samples = [
        DataSample(metainfo=dict(img_path=f'/x/img{i}.jpg'))
        .set_gt_label([2]).set_pred_score(torch.tensor([0.7, 0.2, 0.6]))
        .set_pred_label(torch.tensor([0, 2])) for i in range(2)
    ]
    # A TTA batch: two views; the hook draws the first.
    views = [[torch.from_numpy(x) for x in bgr],
             [torch.from_numpy(x).flip(-1) for x in bgr]]
    hook._draw_samples(0, dict(inputs=views), samples)
    for i in range(2):
        rgb = np.ascontiguousarray(bgr[i].transpose(1, 2, 0)[..., ::-1])
        expected = figure_to_rgb(label_scores_figure(
            rgb, [0, 2], np.array([0.7, 0.2, 0.6]), classes,
            title=f'img{i} - ground truth: c'))
        np.testing.assert_array_equal(
            mmcv.imread(str(tmp_path / f'img{i}_0.png'),
                        channel_order='rgb'), expected)
    assert not (tmp_path / 'backend').exists()  # out_dir only

    frames = dict(inputs=torch.zeros(2, 64, 30))  # video frame features
    with pytest.raises(ValueError, match='visualize_frame_attention'):
        hook._draw_samples(0, frames, samples)


def test_test_tool_rejects_bad_out_options(capsys):
    tool = load_tool('test')
    for argv, message in (
        (['--out', 'p.csv'], 'predictions are written as .npz'),
        (['--out-item', 'metrics', '--out', 'm.npz'],
         'the metrics are written as .json'),
        (['--out-item', 'pred'], '--out-item needs --out'),
        (['--interval', '0'], '--interval must be >= 1'),
    ):
        with pytest.raises(SystemExit) as exit_info:
            tool.parse_args([CONFIG, 'ckpt.pth', *argv])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
    for out in ('p.npz', 'p.pkl', 'p.pickle'):
        assert tool.parse_args([CONFIG, 'c.pth', '--out', out]).out == out


def test_train_tool_dataloader_flags():
    tool = load_tool('train')
    from mmcma.engine.cli import load_config
    args = tool.parse_args([
        CONFIG, '--no-pin-memory', '--no-persistent-workers',
        '--cfg-options', 'train_dataloader.num_workers=2',
        'train_dataloader.persistent_workers=True'
    ])
    cfg = load_config(args)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].pin_memory is False
        assert cfg[key].persistent_workers is False
    cfg = load_config(tool.parse_args([
        CONFIG, '--cfg-options', 'train_dataloader.num_workers=2',
        'train_dataloader.persistent_workers=True'
    ]))
    assert cfg.train_dataloader.persistent_workers is True
    assert 'pin_memory' not in cfg.train_dataloader


# ---------------------------------------------------------------- Slurm
FAKE_SRUN = r"""#!/usr/bin/env bash
# Records its arguments; unless FAKE_SRUN_DRY is set, starts --ntasks copies
# of the command with the variables srun gives each task.
printf '%s\n' "$@" > "$FAKE_SRUN_LOG"
[ -n "$FAKE_SRUN_DRY" ] && exit 0
ntasks=1
while [ $# -gt 0 ]; do
    case "$1" in
        -p) shift 2 ;;
        --ntasks=*) ntasks=${1#--ntasks=}; shift ;;
        -*) shift ;;
        *) break ;;
    esac
done
pids=()
for ((i = 0; i < ntasks; i++)); do
    SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NTASKS=$ntasks \
        SLURM_NODELIST=node-[1-2] "$@" > "$FAKE_SRUN_LOG.task$i" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
"""
FAKE_SCONTROL = r"""#!/usr/bin/env bash
# `scontrol show hostname node-[1-2]` lists the nodes, one a line.
[ "$*" = 'show hostname node-[1-2]' ] || exit 1
printf '127.0.0.1\nnode-2\n'
"""


@pytest.fixture
def fake_slurm(tmp_path):
    """A folder with fake ``srun`` and ``scontrol`` and the environment that
    puts them first on PATH."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('srun', FAKE_SRUN), ('scontrol', FAKE_SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('SLURM_', 'MASTER_'))}
    env.update(PATH=f'{bin_dir}{os.pathsep}{env["PATH"]}',
               FAKE_SRUN_LOG=str(tmp_path / 'srun.log'),
               PYTHON=sys.executable, MASTER_PORT=str(port),
               OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               CUDA_VISIBLE_DEVICES='')
    return env


@pytest.mark.slow
def test_scripts_are_executable_and_parse():
    for name in ('slurm_train.sh', 'slurm_test.sh', 'slurm_run.sh',
                 'dist_train.sh', 'dist_test.sh'):
        path = os.path.join(ROOT, 'tools', name)
        assert os.stat(path).st_mode & stat.S_IXUSR, name
        subprocess.run(['bash', '-n', path], check=True)
        proc = subprocess.run([path], capture_output=True, text=True) \
            if name.startswith('slurm') else None
        if proc is not None:
            assert proc.returncode == 1 and 'usage:' in proc.stderr


@pytest.mark.slow
def test_slurm_train_builds_the_srun_command(fake_slurm, tmp_path):
    env = dict(fake_slurm, FAKE_SRUN_DRY='1', GPUS='16', GPUS_PER_NODE='8',
               SRUN_ARGS='--quotatype=auto --time=1:00:00')
    subprocess.run([
        os.path.join(ROOT, 'tools', 'slurm_train.sh'), 'gpu', 'job 1',
        'cfg.py', 'work', '--amp', '--cfg-options', 'a=b c'
    ], cwd=tmp_path, env=env, check=True, capture_output=True)
    argv = (tmp_path / 'srun.log').read_text().splitlines()
    assert argv == [
        '-p', 'gpu', '--job-name=job 1', '--gres=gpu:8', '--ntasks=16',
        '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1',
        '--quotatype=auto', '--time=1:00:00', sys.executable, '-u',
        os.path.join(ROOT, 'tools', 'train.py'), 'cfg.py', '--work-dir=work',
        '--amp', '--cfg-options', 'a=b c', '--launcher=slurm'
    ]


def test_slurm_environment_from_srun_variables(fake_slurm, monkeypatch):
    monkeypatch.setenv('PATH', fake_slurm['PATH'])
    env = dict(SLURM_PROCID='3', SLURM_NTASKS='4', SLURM_LOCALID='1',
               SLURM_NODELIST='node-[1-2]')
    assert slurm_environment(env) == dict(
        RANK='3', WORLD_SIZE='4', LOCAL_RANK='1', MASTER_ADDR='127.0.0.1',
        MASTER_PORT='29500')
    env.update(MASTER_ADDR='10.0.0.1', MASTER_PORT='1234')
    del env['SLURM_LOCALID']
    assert slurm_environment(env) == dict(
        RANK='3', WORLD_SIZE='4', LOCAL_RANK='3', MASTER_ADDR='10.0.0.1',
        MASTER_PORT='1234')
    with pytest.raises(RuntimeError, match='SLURM_NTASKS.*srun'):
        slurm_environment(dict(SLURM_PROCID='0', SLURM_NODELIST='n'))


@pytest.mark.slow
def test_slurm_test_on_two_cpu_tasks_gives_the_plain_metrics(
        plain_run, fake_slurm, tmp_path):
    """srun's variables reach the tool: two gloo tasks (the master address
    from scontrol), the metrics of the one-process run."""
    env = dict(fake_slurm, GPUS='2', GPUS_PER_NODE='2')
    subprocess.run([
        os.path.join(ROOT, 'tools', 'slurm_test.sh'), 'cpu', 'test',
        CONFIG, plain_run['ckpt'], '--work-dir', 'work', '--metrics-out',
        'metrics.json', *data_options(plain_run['data'])
    ], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=600)
    log = (tmp_path / 'srun.log.task0').read_text()  # rank 0 logs
    for line in ("dist_cfg: {'backend': 'gloo'}", 'Distributed launcher: slurm',
                 'GPU number: 2'):  # mmengine's name for the world size
        assert line in log, log[-3000:]
    with open(tmp_path / 'metrics.json') as f:
        tested = json.load(f)
    with open(plain_run['root'] / 'metrics.json') as f:
        assert tested == pytest.approx(json.load(f), abs=1e-5)


def test_convnext_with_pooling_names_the_fix():
    """ConvNeXt pools by default: the neck says what to set, and with it
    the model runs."""
    from mmpretrain.registry import MODELS
    neck = MODELS.build(dict(type='CMTNeck', in_channels=320,
                             reduced_channels=8, embed_dim=4))
    image = torch.randn(2, 3, 32, 32)
    backbone = MODELS.build(dict(type='ConvNeXt', arch='atto'))
    with pytest.raises(ValueError, match=r'pooled vector of shape \(2, 320\)'
                       r'.*ConvNeXt\(gap_before_final_norm=False\)'):
        neck(backbone(image))
    backbone = MODELS.build(dict(type='ConvNeXt', arch='atto',
                                 gap_before_final_norm=False))
    [scale] = neck(backbone(image))
    assert scale.visual.shape == (2, 8, 1, 1)
    # Transformer tokens (B, L, C) instead of a map.
    with pytest.raises(ValueError, match="out_type='featmap'"):
        neck((torch.randn(2, 5, 320), ))
    with pytest.raises(ValueError, match='set CMTNeck in_channels'):
        neck((torch.randn(2, 64, 4, 4), ))
