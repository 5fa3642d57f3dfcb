"""LabelEmbeddingHook: graph + ASGE before training, cache, distribution."""
import multiprocessing as mp
import os
import socket
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmcma  # noqa: F401
from mmcma.datasets import CocoMultiLabel, get_label_matrix
from mmcma.datasets.synthetic_scenes import generate
from mmcma.engine.hooks import label_embedding_hook as hook_module
from mmcma.engine.hooks import LabelEmbeddingHook
from mmcma.graph import build_label_graph
from mmcma.label_semantics import LabelSemantics
from tool_runner import ROOT, run_tool

CONFIG = os.path.join(ROOT, 'configs', 'demo',
                      'mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp('scenes')
    generate(str(root), 40, 12, 32, seed=0)
    return str(root)


def make_runner(scenes, work_dir):
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(CONFIG)
    model = MODELS.build(cfg.model)
    dataset = CocoMultiLabel(ann_file='annotations/instances_train.json',
                             data_root=scenes, data_prefix='train',
                             drop_empty=False)
    return SimpleNamespace(
        model=model, work_dir=str(work_dir),
        train_dataloader=SimpleNamespace(dataset=dataset))


def cache_files(work_dir):
    folder = os.path.join(work_dir, 'label_semantics')
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_fills_model_and_loss(scenes, tmp_path):
    runner = make_runner(scenes, tmp_path)
    head = runner.model.head
    assert not bool(head.label_embedding_ready)
    LabelEmbeddingHook(asge=dict(seed=1), progress=False).before_train(runner)
    assert bool(head.label_embedding_ready)

    files = cache_files(tmp_path)
    assert len(files) == 1
    sem = LabelSemantics.load(os.path.join(tmp_path, 'label_semantics',
                                           files[0]))
    np.testing.assert_allclose(head.label_embedding.numpy(), sem.embeddings)
    labels = get_label_matrix(runner.train_dataloader.dataset)
    np.testing.assert_allclose(sem.adjacency, build_label_graph(labels))
    np.testing.assert_array_equal(sem.counts, labels.sum(0))
    np.testing.assert_allclose(head.loss_module.label_frequency.numpy(),
                               labels.mean(0), rtol=1e-6)
    assert sem.embeddings.shape == (12, 64)


def test_cache_reused_corrupt_rebuilt_stale_separate(scenes, tmp_path,
                                                     monkeypatch):
    hook = LabelEmbeddingHook(progress=False)
    hook.before_train(make_runner(scenes, tmp_path))
    [name] = cache_files(tmp_path)
    path = os.path.join(tmp_path, 'label_semantics', name)
    first = LabelSemantics.load(path).embeddings

    # Reuse: computing again would fail.
    def no_compute(*args, **kwargs):
        raise AssertionError('recomputed although the cache is valid')
    real_compute = hook_module.compute_label_semantics
    monkeypatch.setattr(hook_module, 'compute_label_semantics', no_compute)
    runner = make_runner(scenes, tmp_path)
    hook.before_train(runner)
    np.testing.assert_allclose(runner.model.head.label_embedding.numpy(),
                               first)

    # Corrupt: recomputed (same result, deterministic), file valid again.
    monkeypatch.setattr(hook_module, 'compute_label_semantics', real_compute)
    with open(path, 'wb') as f:
        f.write(b'garbage')
    runner = make_runner(scenes, tmp_path)
    hook.before_train(runner)
    np.testing.assert_allclose(LabelSemantics.load(path).embeddings, first)
    np.testing.assert_allclose(runner.model.head.label_embedding.numpy(),
                               first)

    # Other options: another key, another file.
    LabelEmbeddingHook(asge=dict(seed=5), progress=False).before_train(
        make_runner(scenes, tmp_path))
    assert len(cache_files(tmp_path)) == 2


def test_embedding_file_source(scenes, tmp_path):
    good = np.random.default_rng(0).normal(size=(12, 64)).astype(np.float32)
    np.save(tmp_path / 'emb.npy', good)
    runner = make_runner(scenes, tmp_path)
    LabelEmbeddingHook(embedding_file=str(tmp_path / 'emb.npy'),
                       progress=False).before_train(runner)
    np.testing.assert_allclose(runner.model.head.label_embedding.numpy(),
                               good)

    np.savez(tmp_path / 'bad.npz', embeddings=good[:11])
    with pytest.raises(ValueError, match=r'bad.npz: expected an array of '
                       r'shape \(12, D\)'):
        LabelEmbeddingHook(embedding_file=str(tmp_path / 'bad.npz'),
                           cache=False).before_train(
                               make_runner(scenes, tmp_path))
    np.save(tmp_path / 'dim.npy', good[:, :32])
    with pytest.raises(ValueError, match='expects 64-d'):
        LabelEmbeddingHook(embedding_file=str(tmp_path / 'dim.npy'),
                           cache=False).before_train(
                               make_runner(scenes, tmp_path))


def test_class_count_mismatch(scenes, tmp_path):
    runner = make_runner(scenes, tmp_path)
    runner.model.head.init_label_embedding(7, 64)
    with pytest.raises(ValueError, match='model has 7 classes'):
        LabelEmbeddingHook(progress=False).before_train(runner)


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
            hook_module.compute_label_semantics = None
        runner = make_runner(scenes, work_dir)
        LabelEmbeddingHook(progress=False).before_train(runner)
        queue.put((rank, runner.model.head.label_embedding.numpy(),
                   runner.model.head.loss_module.label_frequency.numpy()))
    finally:
        torch.distributed.destroy_process_group()


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


def test_through_tools(scenes, tmp_path):
    work = str(tmp_path / 'work')
    opts = ['--cfg-options', 'train_cfg.max_epochs=1',
            f'train_dataloader.dataset.data_root={scenes}',
            f'val_dataloader.dataset.data_root={scenes}',
            f'test_dataloader.dataset.data_root={scenes}']
    log = run_tool('tools/train.py', CONFIG, '--work-dir', work, *opts)
    assert 'LabelEmbeddingHook: saved' in log
    [name] = cache_files(work)
    cached = LabelSemantics.load(os.path.join(work, 'label_semantics', name))

    # A second run (resumed) reuses the cache.
    opts[1] = 'train_cfg.max_epochs=2'
    log = run_tool('tools/train.py', CONFIG, '--work-dir', work, '--resume',
                   *opts)
    assert 'LabelEmbeddingHook: reusing' in log

    # The checkpoint alone carries the embeddings: test without train data.
    ckpt = torch.load(os.path.join(work, 'epoch_2.pth'), weights_only=False)
    np.testing.assert_allclose(
        ckpt['state_dict']['head.label_embedding'].numpy(), cached.embeddings)
    opts[2] = 'train_dataloader.dataset.data_root=/nonexistent'
    out = run_tool('tools/test.py', CONFIG, os.path.join(work, 'epoch_2.pth'),
                   '--work-dir', work, *opts)
    assert 'top-3' in out

    # The CLI writes the same graph for this config.
    out_file = str(tmp_path / 'graph.npz')
    out = run_tool('tools/build_label_graph.py', CONFIG, '--out', out_file,
                   '--cfg-options',
                   f'train_dataloader.dataset.data_root={scenes}')
    assert 'final ASGE loss' in out
    sem = LabelSemantics.load(out_file)
    np.testing.assert_allclose(sem.adjacency, cached.adjacency)
    np.testing.assert_allclose(sem.embeddings, cached.embeddings, atol=1e-5)
