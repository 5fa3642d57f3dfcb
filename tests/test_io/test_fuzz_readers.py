"""Every reader against mutated valid files (hypothesis; tests/helpers/fuzz).

Each reader either loads a mutated file to a valid result (checked here) or
raises :class:`mmcma.io.InputError` naming the file; never another
exception, never a hang, never more than the memory budget. ``ci`` profile
by default; ``MMCMA_FUZZ_PROFILE=release`` for the long run.
"""
import gzip
import io
import json
import math

import cv2
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from tfrecord.writer import TFRecordWriter

from mmcma.datasets import CocoMultiLabel, VOCMultiLabel
from mmcma.datasets.youtube8m import YouTube8MDataset
from mmcma.datasets.youtube8m_records import write_video_record
from mmcma.labels import LabelState
from mmcma.labels.knowledge import (KnowledgeGraph, conceptnet_graph,
                                    load_knowledge_graph)
from mmcma.labels.knowledge.graph_file import check_knowledge_arrays
from mmcma.labels.vectors.word_vectors import text_file_label_vectors
from tests.helpers.fuzz import check_reader, mutated

pytestmark = [pytest.mark.fuzz,
              pytest.mark.filterwarnings('ignore::UserWarning')]

CLASSES = ['cat', 'dog', 'tree']


# ------------------------------------------------------------------ COCO
COCO = dict(
    images=[dict(id=1, file_name='a.png', width=32, height=24),
            dict(id=2, file_name='b.png', width=16, height=16)],
    categories=[dict(id=1, name='cat'), dict(id=3, name='dog')],
    annotations=[
        dict(id=10, image_id=1, category_id=1, bbox=[1, 2, 10, 12],
             iscrowd=0),
        dict(id=11, image_id=1, category_id=3, bbox=[0, 0, 32, 24],
             iscrowd=1),
        dict(id=12, image_id=2, category_id=3, bbox=[4.5, 4, 2, 2],
             iscrowd=0)])

#: JSON values a field may be replaced with.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) |
    st.floats(allow_nan=False, allow_infinity=False) |
    st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) |
    st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key, ))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, prefix + (i, ))


@st.composite
def json_mutated(draw, seed):
    """``seed`` (a JSON value) with fields replaced, deleted or added."""
    value = json.loads(json.dumps(seed))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(value) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = value
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            parent[path[-1]] = draw(JSON_VALUES)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.insert(path[-1], draw(JSON_VALUES))
    return json.dumps(value).encode()


def coco_valid(ds):
    assert len(ds) > 0
    n = len(ds.metainfo['classes'])
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert all(0 <= k < n for k in info['gt_label'])
        boxes = info['gt_bboxes']
        h, w = info['box_ann_shape']
        assert boxes.shape == (len(info['gt_bboxes_labels']), 4)
        assert np.isfinite(boxes).all()
        assert (boxes >= 0).all() and (boxes[:, 0::2] <= w).all() and \
            (boxes[:, 1::2] <= h).all()


def read_coco(tmp_path, data):
    (tmp_path / 'ann.json').write_bytes(data)
    check_reader(lambda: CocoMultiLabel(
        ann_file=str(tmp_path / 'ann.json'), data_prefix='img',
        drop_empty=False, with_boxes=True), 'ann.json', coco_valid)


@given(data=mutated(json.dumps(COCO).encode()))
def test_coco_json_bytes(tmp_path, data):
    read_coco(tmp_path, data)


@given(data=json_mutated(COCO))
def test_coco_json_fields(tmp_path, data):
    read_coco(tmp_path, data)


# ------------------------------------------------------------------- VOC
VOC_XML = (b'<annotation><size><width>50</width><height>70</height>'
           b'<depth>3</depth></size>'
           b'<object><name>dog</name><difficult>0</difficult><bndbox>'
           b'<xmin>11</xmin><ymin>21</ymin><xmax>40</xmax><ymax>60</ymax>'
           b'</bndbox></object>'
           b'<object><name>cat</name><difficult>1</difficult><bndbox>'
           b'<xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax>'
           b'</bndbox></object></annotation>')


def voc_valid(ds):
    info = ds.get_data_info(0)
    assert all(0 <= k < 20 for k in info['gt_label'])
    boxes = info['gt_bboxes']
    h, w = info['box_ann_shape']
    assert np.isfinite(boxes).all() and (boxes >= 0).all()
    assert (boxes[:, 0::2] <= w).all() and (boxes[:, 1::2] <= h).all()
    assert (boxes[:, 2:] >= boxes[:, :2]).all()


@given(data=mutated(VOC_XML))
def test_voc_xml(tmp_path, data):
    for folder in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / 'ImageSets/Main/trainval.txt').write_text('000005\n')
    (tmp_path / 'Annotations/000005.xml').write_bytes(data)
    check_reader(lambda: VOCMultiLabel(data_root=str(tmp_path),
                                       split='trainval', with_boxes=True),
                 '000005.xml', voc_valid)


# ------------------------------------------------- knowledge: CSV and npz
CSV = '\n'.join(
    '\t'.join(('/a/x', f'/r/{rel}', f'/c/en/{a}/n', f'/c/en/{b}',
               json.dumps(dict(weight=w))))
    for rel, a, b, w in (('IsA', 'cat', 'dog', 1.5),
                         ('RelatedTo', 'dog', 'tree', 0.4),
                         ('AtLocation', 'cat', 'tree', 2.0))).encode() + b'\n'


def knowledge_valid(graph):
    check_knowledge_arrays(graph.classes, graph.adjacency, graph.relation,
                           'graph')
    assert math.isfinite(float(graph.adjacency.sum()))


@pytest.mark.parametrize('name', ['cn.csv', 'cn.csv.gz'])
@given(data=st.data())
def test_conceptnet_csv(tmp_path, name, data):
    seed = gzip.compress(CSV, mtime=0) if name.endswith('.gz') else CSV
    path = tmp_path / name
    path.write_bytes(data.draw(mutated(seed)))
    check_reader(lambda: conceptnet_graph(CLASSES, str(path),
                                          progress=False),
                 name, knowledge_valid)


def knowledge_npz() -> bytes:
    adjacency = np.array([[0, 1.5, 2], [1.5, 0, 0.4], [2, 0.4, 0]])
    relation = np.where(adjacency > 0, '/r/IsA', '')
    buffer = io.BytesIO()
    np.savez(buffer, classes=np.array(CLASSES), adjacency=adjacency,
             relation=relation, source=np.array('{"type": "test"}'))
    return buffer.getvalue()


#: Odd arrays a member may be replaced with.
ODD_ARRAYS = st.sampled_from([
    np.array([1, None], dtype=object), np.zeros((0, 0)), np.array(3.5),
    np.full((3, 3), np.nan), np.full((3, 3), 1e308), np.array(['x', 'y']),
    np.ones((3, 3), bool), np.ones((3, 3), complex), np.ones((3, 3, 2)),
    np.array([2**62, -1]), np.ones((2, 2)), np.array(b'bytes'),
    np.array(['cat', 'cat', 'dog'])])


@st.composite
def npz_members_replaced(draw, seed: bytes):
    """``seed`` (an .npz) with members replaced by odd arrays or dropped."""
    with np.load(io.BytesIO(seed)) as data:
        arrays = {k: data[k] for k in data.files}
    for _ in range(draw(st.integers(1, 2))):
        key = draw(st.sampled_from(sorted(arrays)))
        if draw(st.integers(0, 4)) == 0:
            del arrays[key]
            if not arrays:
                break
        else:
            arrays[key] = draw(ODD_ARRAYS)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@given(data=st.one_of(mutated(knowledge_npz()),
                      npz_members_replaced(knowledge_npz())))
def test_knowledge_npz(tmp_path, data):
    path = tmp_path / 'kg.npz'
    path.write_bytes(data)
    check_reader(lambda: load_knowledge_graph(str(path), CLASSES), 'kg.npz',
                 knowledge_valid)


# ---------------------------------------------------------- word vectors
VECTORS = b'4 3\ncat 0.1 0.2 0.3\nDog 1 -2 3e-1\ntree 0 0 1\nx 1 1 1\n'


def vectors_valid(vectors):
    assert vectors.shape[0] == len(CLASSES) and vectors.ndim == 2
    assert vectors.dtype == np.float32


@pytest.mark.parametrize('name', ['v.txt', 'v.txt.gz'])
@given(data=st.data())
def test_word_vector_text(tmp_path, name, data):
    seed = gzip.compress(VECTORS, mtime=0) if name.endswith('.gz') \
        else VECTORS
    path = tmp_path / name
    path.write_bytes(data.draw(mutated(seed)))
    check_reader(lambda: text_file_label_vectors(str(path), CLASSES), name,
                 vectors_valid)


# ---------------------------------------------------- label-state caches
def label_state_npz(sparse: bool = False) -> bytes:
    """A state file; ``sparse``: its graph and counts as COO arrays."""
    co_counts = np.array([[3, 1, 0], [1, 4, 2], [0, 2, 5]])
    graph = np.array([[1, .3, 0], [.25, 1, .4], [0, .4, 1]])
    state = LabelState(
        classes=np.array(CLASSES), num_samples=10,
        counts=np.array([3, 4, 5]),
        co_counts=sp.csr_matrix(co_counts) if sparse else co_counts,
        graph=sp.csr_matrix(graph) if sparse else graph,
        graph_normalization='none',
        embedding=np.ones((3, 4), np.float32), embedding_loss=0.5, key='k')
    buffer = io.BytesIO()
    np.savez(buffer, **state.arrays())
    return buffer.getvalue()


def state_valid(state):
    n = len(state.classes)
    assert state.counts.shape == (n, )
    graph = state.graph.toarray() if sp.issparse(state.graph) else \
        state.graph
    assert graph.shape in ((0, 0), (n, n))
    assert np.isfinite(graph).all()
    assert np.isfinite(state.frequency).all()


@given(data=st.one_of(mutated(label_state_npz()),
                      npz_members_replaced(label_state_npz()),
                      mutated(label_state_npz(sparse=True)),
                      npz_members_replaced(label_state_npz(sparse=True))))
def test_label_state_cache(tmp_path, data):
    path = tmp_path / 'state.npz'
    path.write_bytes(data)
    check_reader(lambda: LabelState.load(str(path)), 'state.npz',
                 state_valid)


# --------------------------------------------------- YouTube-8M records
def tfrecord() -> bytes:
    path = '/dev/shm/mmcma-fuzz.tfrecord'
    writer = TFRecordWriter(path)
    rng = np.random.default_rng(0)
    for i, labels in enumerate(([1], [0, 3])):
        frames = dict(rgb=rng.integers(0, 256, (2, 1024), dtype=np.uint8),
                      audio=rng.integers(0, 256, (2, 128), dtype=np.uint8))
        write_video_record(writer, f'v{i}', labels, frames,
                           segments=([0], [labels[0]], [1.0]))
    writer.close()
    with open(path, 'rb') as f:
        return f.read()


def youtube8m_valid(ds):
    for i in range(len(ds)):
        sample = ds[i]
        assert sample['inputs'].shape[-1] == 1024 or \
            sample['inputs'].shape[0] == 1024


@given(data=mutated(tfrecord(), max_ops=3))
def test_youtube8m_records(tmp_path, data):
    (tmp_path / 'a.tfrecord').write_bytes(data)
    check_reader(lambda: youtube8m_valid(YouTube8MDataset(
        data_root=str(tmp_path), num_classes=4, max_frames=4)),
        str(tmp_path))


# ---------------------------------------------------------------- images
def image_bytes(ext: str) -> bytes:
    rng = np.random.default_rng(0)
    ok, encoded = cv2.imencode(ext, rng.integers(0, 256, (12, 16, 3),
                                                 dtype=np.uint8))
    assert ok
    return encoded.tobytes()


@pytest.mark.parametrize('ext', ['.png', '.jpg'])
@given(data=st.data())
def test_images(tmp_path, ext, data):
    (tmp_path / 'img').mkdir(exist_ok=True)
    name = f'a{ext}'
    (tmp_path / 'img' / name).write_bytes(
        data.draw(mutated(image_bytes(ext))))
    coco = dict(images=[dict(id=1, file_name=name)],
                categories=[dict(id=1, name='cat')],
                annotations=[dict(id=1, image_id=1, category_id=1)])
    (tmp_path / 'ann.json').write_text(json.dumps(coco))
    max_pixels = 1 << 16

    def load():
        ds = CocoMultiLabel(
            ann_file=str(tmp_path / 'ann.json'),
            data_prefix=str(tmp_path / 'img'), max_pixels=max_pixels,
            pipeline=[dict(type='LoadImageFromFile'),
                      dict(type='PackInputs')])
        return ds[0]

    def valid(sample):
        channels, height, width = sample['inputs'].shape
        assert channels == 3 and height * width <= max_pixels

    check_reader(load, name, valid)
