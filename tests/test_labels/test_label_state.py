"""The label state: fill function, LabelStateHook, cache, distribution."""
import multiprocessing as mp
import os
import socket
import stat
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmcma
from mmcma.compat import load_local_checkpoint
from mmcma.datasets import CocoMultiLabel, get_label_matrix
from mmcma.io import InputOptionError
from mmcma.labels import LabelState
from mmcma.labels import state as state_module
from mmcma.engine.hooks import LabelStateHook
from mmcma.labels.graphs import build_label_graph
from tests.helpers.tool_runner import ROOT, run_tool

CONFIG = os.path.join(ROOT, 'configs', 'demo',
                      'mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
# The demo model, with the class-imbalance loss using label frequencies.
WEIGHTED = dict(head=dict(loss=dict(beta=0.4)))


#: The ``scenes`` fixture's setting (tests/conftest.py).
SCENES = (40, 12, 32, 0)


def build_model(**overrides):
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(dict(model=overrides))
    return MODELS.build(cfg.model)


def train_set(scenes):
    return CocoMultiLabel(ann_file='annotations/instances_train.json',
                          data_root=scenes, data_prefix='train',
                          drop_empty=False)


def make_runner(scenes, work_dir, **overrides):
    return SimpleNamespace(
        model=build_model(**overrides), work_dir=str(work_dir),
        train_dataloader=SimpleNamespace(dataset=train_set(scenes)))


def cache_files(work_dir):
    folder = os.path.join(work_dir, 'label_state')
    return sorted(f for f in os.listdir(folder)
                  if f.endswith('.npz')) if os.path.isdir(folder) else []


def test_fill_outside_a_runner(scenes):
    """A notebook's few lines: build from the config, fill, forward, loss."""
    model = build_model(**WEIGHTED)
    assert mmcma.label_state_requirements(model) == {
        'embedding': (12, 64), 'frequency': (12, )}
    inputs = torch.rand(2, 3, 32, 32)
    samples = [DataSample().set_gt_label([0, 3]),
               DataSample().set_gt_label([5])]
    with pytest.raises(RuntimeError, match='label embeddings .*never filled'):
        model(inputs, samples, mode='loss')

    dataset = train_set(scenes)
    state = mmcma.fill_label_state(model, dataset, progress=False)
    labels = get_label_matrix(dataset)
    np.testing.assert_allclose(model.head.label_embedding.numpy(),
                               state.embedding)
    np.testing.assert_allclose(state.graph, build_label_graph(labels))
    np.testing.assert_allclose(
        model.head.loss_module.label_frequency.numpy(), labels.mean(0),
        rtol=1e-6)
    assert list(state.classes) == list(dataset.metainfo['classes'])
    loss = model(inputs, samples, mode='loss')['loss']
    assert torch.isfinite(loss)
    assert model(inputs, mode='tensor').shape == (2, 12)


def test_frequencies_come_from_counts_not_a_fit(monkeypatch):
    """A model that only needs frequencies fits nothing and builds no graph.
    """
    def no_fit(*args, **kwargs):
        raise AssertionError('fitted embeddings for frequencies')
    monkeypatch.setattr(state_module, 'make_label_embedding', no_fit)
    monkeypatch.setattr(state_module, 'build_label_graph', no_fit)
    model = MODELS.build(
        dict(type='ClassImbalanceBCELoss', beta=0.4, num_classes=3))
    labels = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0], [1, 0, 1]])
    state = mmcma.fill_label_state(model, labels)
    np.testing.assert_allclose(model.label_frequency.numpy(),
                               [0.75, 0.25, 0.25])
    assert state.graph.size == 0 and state.embedding.size == 0
    assert list(state.classes) == ['0', '1', '2']


def test_state_lacking_an_array_is_refused():
    model = build_model()
    state = mmcma.compute_label_state(np.eye(12, dtype=np.uint8),
                                      [str(i) for i in range(12)],
                                      {'frequency': (12, )})
    with pytest.raises(ValueError, match='lacks label embeddings'):
        mmcma.fill_label_state(model, state)


def test_hook_fills_model_and_caches(scenes, tmp_path):
    runner = make_runner(scenes, tmp_path, **WEIGHTED)
    head = runner.model.head
    assert not head.is_label_state_ready('embedding')
    LabelStateHook(embedding=dict(seed=1), progress=False).before_train(runner)
    assert head.is_label_state_ready('embedding')
    assert head.loss_module.is_label_state_ready('frequency')

    [name] = cache_files(tmp_path)
    path = os.path.join(tmp_path, 'label_state', name)
    state = LabelState.load(path)
    np.testing.assert_allclose(head.label_embedding.numpy(), state.embedding)
    labels = get_label_matrix(runner.train_dataloader.dataset)
    np.testing.assert_array_equal(state.counts, labels.sum(0))
    assert state.embedding.shape == (12, 64)
    # Written like any new file: readable by the group and others (umask).
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask


@pytest.mark.slow
def test_cache_reused_corrupt_rebuilt_stale_separate(scenes, tmp_path,
                                                     monkeypatch):
    hook = LabelStateHook(progress=False)
    hook.before_train(make_runner(scenes, tmp_path))
    [name] = cache_files(tmp_path)
    path = os.path.join(tmp_path, 'label_state', name)
    first = LabelState.load(path).embedding

    # Reuse: computing again would fail.
    def no_compute(*args, **kwargs):
        raise AssertionError('recomputed although the cache is valid')
    real_compute = state_module.compute_label_state
    monkeypatch.setattr(state_module, 'compute_label_state', no_compute)
    runner = make_runner(scenes, tmp_path)
    hook.before_train(runner)
    np.testing.assert_allclose(runner.model.head.label_embedding.numpy(),
                               first)

    # Garbage, or a truncated zip: recomputed with a warning (same result,
    # deterministic), and the file is valid again.
    monkeypatch.setattr(state_module, 'compute_label_state', real_compute)
    data = open(path, 'rb').read()
    for broken in (b'garbage', data[:len(data) // 2]):
        with open(path, 'wb') as f:
            f.write(broken)
        runner = make_runner(scenes, tmp_path)
        with pytest.warns(UserWarning, match='cache unusable, recomputing'):
            hook.before_train(runner)
        np.testing.assert_allclose(LabelState.load(path).embedding, first)
        np.testing.assert_allclose(
            runner.model.head.label_embedding.numpy(), first)

    # Other options: another key, another file.
    LabelStateHook(embedding=dict(seed=5), progress=False).before_train(
        make_runner(scenes, tmp_path))
    assert len(cache_files(tmp_path)) == 2


def _locked_fit_worker(labels, cache_dir, queue):
    torch.set_num_threads(1)
    state = state_module.cached_label_state(
        labels, [str(i) for i in range(labels.shape[1])],
        {'embedding': (labels.shape[1], 8)}, cache_dir=cache_dir,
        progress=False)
    queue.put(state.embedding)


@pytest.mark.slow
def test_parallel_processes_fit_a_cache_once(tmp_path, monkeypatch):
    """Two processes asking for one state: one fits, the other reads."""
    calls = mp.get_context('fork').Value('i', 0)
    real = state_module.compute_label_state

    def counting(*args, **kwargs):
        with calls.get_lock():
            calls.value += 1
        return real(*args, **kwargs)
    monkeypatch.setattr(state_module, 'compute_label_state', counting)
    labels = (np.random.default_rng(0).random((50, 6)) < 0.4).astype(
        np.uint8)
    ctx = mp.get_context('fork')
    queue = ctx.Queue()
    procs = [ctx.Process(target=_locked_fit_worker,
                         args=(labels, str(tmp_path), queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert calls.value == 1
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.slow
def test_embedding_file_source(scenes, tmp_path):
    good = np.random.default_rng(0).normal(size=(12, 64)).astype(np.float32)
    np.save(tmp_path / 'emb.npy', good)
    runner = make_runner(scenes, tmp_path)
    LabelStateHook(embedding=dict(type='file', path=str(tmp_path / 'emb.npy')),
                   progress=False).before_train(runner)
    np.testing.assert_allclose(runner.model.head.label_embedding.numpy(),
                               good)

    zero_row = good.copy()
    zero_row[3] = 0
    bad = {
        'short.npz': (good[:11], r'short.npz: expected an array of shape '
                      r'\(12, D\)'),
        'dim.npy': (good[:, :32], 'expects 64-d'),
        'nan.npy': (np.where(np.eye(12, 64) > 0, np.nan, good), 'NaN'),
        'zero.npy': (zero_row, r'1 all-zero rows \(labels \[3\]\)'),
    }
    for name, (array, message) in bad.items():
        path = str(tmp_path / name)
        (np.savez(path, embeddings=array) if name.endswith('.npz')
         else np.save(path, array))
        with pytest.raises(ValueError, match=message):
            LabelStateHook(embedding=dict(type='file', path=path),
                           cache=False).before_train(
                               make_runner(scenes, tmp_path))
    with pytest.raises(InputOptionError, match="label embedding source type "
                       r"must be one of \('asge', .*got 'glovez'"):
        LabelStateHook(embedding=dict(type='glovez'),
                       cache=False).before_train(make_runner(scenes, tmp_path))
    # Options checked by name: before, a TypeError from the source function.
    for options, message in (
            (dict(type='glove', synonym=dict(tv='tv')),
             "label embedding source 'glove': unknown option 'synonym'; "
             'valid options: synonyms'),
            (dict(type='file'),
             "label embedding source 'file': missing the option 'path'"),
            (dict(type='asge', max_iter=3),
             "label embedding source 'asge': unknown option 'max_iter'")):
        with pytest.raises(InputOptionError, match=message):
            LabelStateHook(embedding=options, cache=False).before_train(
                make_runner(scenes, tmp_path))


def test_class_count_mismatch(scenes, tmp_path):
    runner = make_runner(scenes, tmp_path,
                         head=dict(num_classes=7))
    with pytest.raises(ValueError, match='model has 7 classes but the '
                       'dataset CocoMultiLabel has 12'):
        LabelStateHook(progress=False).before_train(runner)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _distributed_worker(rank, port, scenes, work_dir, queue):
    torch.set_num_threads(1)
    torch.distributed.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
        world_size=2)
    try:
        if rank == 1:  # a rank that computed anything would fail
            state_module.compute_label_state = None
        runner = make_runner(scenes, work_dir, **WEIGHTED)
        LabelStateHook(progress=False).before_train(runner)
        queue.put((rank, runner.model.head.label_embedding.numpy(),
                   runner.model.head.loss_module.label_frequency.numpy()))
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_distributed_rank0_computes_others_receive(scenes, tmp_path):
    ctx = mp.get_context('fork')
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_distributed_worker,
                         args=(r, port, scenes, str(tmp_path), queue))
             for r in range(2)]
    for p in procs:
        p.start()
    results = dict((r, (e, f)) for r, e, f in
                   (queue.get(timeout=120) for _ in procs))
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert np.abs(results[0][0]).sum() > 0
    assert len(cache_files(tmp_path)) == 1


@pytest.mark.slow
def test_through_tools(scenes, tmp_path):
    work = str(tmp_path / 'work')
    opts = ['--cfg-options', 'train_cfg.max_epochs=1',
            f'train_dataloader.dataset.data_root={scenes}',
            f'val_dataloader.dataset.data_root={scenes}',
            f'test_dataloader.dataset.data_root={scenes}']
    log = run_tool('tools/train.py', CONFIG, '--work-dir', work, *opts)
    assert 'LabelStateHook:' in log and 'final fitting loss' in log
    [name] = cache_files(work)
    cached = LabelState.load(os.path.join(work, 'label_state', name))

    # Resumed in a fresh work dir with other ASGE options: the checkpoint's
    # label state is kept, nothing is fitted or cached.
    fresh = str(tmp_path / 'fresh')
    opts[1] = 'train_cfg.max_epochs=2'
    log = run_tool('tools/train.py', CONFIG, '--work-dir', fresh, '--resume',
                   os.path.join(work, 'epoch_1.pth'), *opts,
                   'custom_hooks.0.embedding.seed=7')
    assert 'keeping the label state of the checkpoint' in log
    assert cache_files(fresh) == []

    # The checkpoint alone carries the embeddings: test without train data.
    # It loads without unpickling anything outside the allow-list.
    ckpt = load_local_checkpoint(os.path.join(fresh, 'epoch_2.pth'))
    np.testing.assert_allclose(
        ckpt['state_dict']['head.label_embedding'].numpy(), cached.embedding)
    opts[2] = 'train_dataloader.dataset.data_root=/nonexistent'
    out = run_tool('tools/test.py', CONFIG, os.path.join(fresh, 'epoch_2.pth'),
                   '--work-dir', fresh, *opts)
    assert 'top-3' in out

    # The CLI writes the same graph and embeddings for this config.
    out_file = str(tmp_path / 'graph.npz')
    out = run_tool('tools/build_label_graph.py', CONFIG, '--out', out_file,
                   '--cfg-options',
                   f'train_dataloader.dataset.data_root={scenes}')
    assert 'final fitting loss' in out
    state = LabelState.load(out_file)
    labels = get_label_matrix(train_set(scenes))
    np.testing.assert_allclose(state.graph, build_label_graph(labels))
    np.testing.assert_allclose(state.embedding, cached.embedding, atol=1e-5)
