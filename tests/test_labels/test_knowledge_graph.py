"""Knowledge graphs A_K: ConceptNet reader, WordNet relations, the file."""
import gzip
import importlib.util
import json
import os
import runpy
import sys

import numpy as np
import pytest

from mmcma.io import InputOptionError
from mmcma.labels.knowledge import (KnowledgeGraph, conceptnet_graph,
                             knowledge_graph, load_knowledge_graph,
                             read_assertions)
from mmcma.labels.knowledge import wordnet_data
from mmcma.labels.names import (COCO_CLASSES, CONCEPTNET_TERMS,
                                   WORDNET_SYNSETS, knowledge_terms)
from tests.helpers.voc import VOC_CLASSES
from tests.helpers.wordnet import wordnet_or_skip
from tests.helpers.tool_runner import ROOT, run_tool

# ------------------------------------------------------------- ConceptNet
CLASSES = ['dog', 'cat', 'tvmonitor', 'dining table', 'person']


def row(relation, start, end, extra='{"weight": 1.0}'):
    return '\t'.join([f'/a/[{relation}/,{start}/,{end}/]', relation, start,
                      end, extra]) + '\n'


ROWS = [
    # dog - cat: RelatedTo 1.5 wins over IsA 0.5 (reverse direction); the
    # Antonym (negative) 5.0 does not count.
    row('/r/RelatedTo', '/c/en/dog/n/wn/animal', '/c/en/cat',
        '{"dataset": "/d/conceptnet/4/en", "weight": 1.5}'),
    row('/r/IsA', '/c/en/cat/n', '/c/en/dog', '{"weight": 0.5}'),
    row('/r/Antonym', '/c/en/dog', '/c/en/cat', '{"weight": 5.0}'),
    # tvmonitor through its default terms (television, tv); tv-television
    # is a relation of the class with itself: no diagonal.
    row('/r/UsedFor', '/c/en/television/n', '/c/en/person',
        '{"weight": 1.0}'),
    row('/r/Synonym', '/c/en/tv', '/c/en/television', '{"weight": 3.0}'),
    # 'dining table' is dining_table; upper case is folded.
    row('/r/AtLocation', '/c/en/Person', '/c/en/dining_table/n',
        '{"weight": 2.0}'),
    # Not English, or not two class terms: ignored.
    row('/r/RelatedTo', '/c/fr/chien', '/c/en/cat', '{"weight": 9.0}'),
    row('/r/RelatedTo', '/c/en/dog', '/c/de/katze', '{"weight": 9.0}'),
    row('/r/IsA', '/c/en/dog', '/c/en/animal', '{"weight": 9.0}'),
    row('/r/RelatedTo', '/c/en/human', '/c/en/dog', '{"weight": 4.0}'),
    row('/r/ExternalURL', '/c/en/dog', 'http://dbpedia.org/resource/Dog'),
    # Malformed: three fields; bad JSON, negative weight, no /r/ relation
    # between class terms.
    '/a/[x]\t/r/IsA\t/c/en/dog\n',
    row('/r/IsA', '/c/en/dog', '/c/en/person', '{"weight": '),
    row('/r/IsA', '/c/en/dog', '/c/en/person', '{"weight": -1}'),
    row('IsA', '/c/en/dog', '/c/en/person', '{"weight": 1}'),
]


@pytest.fixture(scope='module')
def assertions(tmp_path_factory):
    folder = tmp_path_factory.mktemp('conceptnet')
    plain = folder / 'assertions.csv'
    plain.write_text(''.join(ROWS), encoding='utf-8')
    packed = folder / 'assertions.csv.gz'
    with gzip.open(packed, 'wt', encoding='utf-8') as f:
        f.write(''.join(ROWS))
    return str(plain), str(packed)


def index(name):
    return CLASSES.index(name)


@pytest.mark.parametrize('which', [0, 1], ids=['csv', 'csv.gz'])
def test_conceptnet_max_over_relations(assertions, which):
    with pytest.warns(UserWarning, match='skipped 4 malformed'):
        graph = conceptnet_graph(CLASSES, assertions[which], progress=False)
    expected = np.zeros((5, 5))
    relation = np.full((5, 5), '', dtype=object)
    for a, b, w, r in [('dog', 'cat', 1.5, '/r/RelatedTo'),
                       ('tvmonitor', 'person', 1.0, '/r/UsedFor'),
                       ('dining table', 'person', 2.0, '/r/AtLocation')]:
        expected[index(a), index(b)] = expected[index(b), index(a)] = w
        relation[index(a), index(b)] = relation[index(b), index(a)] = r
    np.testing.assert_array_equal(graph.adjacency, expected)
    np.testing.assert_array_equal(graph.relation, relation.astype(str))
    source = graph.source
    assert source['rows'] == len(ROWS) and source['malformed'] == 4
    assert source['malformed_lines'] == [12, 13, 14, 15]
    assert source['terms']['tvmonitor'] == ['television', 'tv', 'tv_monitor']


@pytest.mark.filterwarnings('ignore:.*malformed row')
def test_conceptnet_relations_and_synonyms(assertions):
    graph = conceptnet_graph(CLASSES, assertions[0], relations=['IsA'],
                             progress=False)
    assert graph.adjacency[index('dog'), index('cat')] == 0.5
    assert graph.relation[index('cat'), index('dog')] == '/r/IsA'
    assert graph.adjacency.sum() == 1.0  # only that edge, both ways
    # Naming the negative relation uses it.
    graph = conceptnet_graph(CLASSES, assertions[0], relations=['/r/Antonym'],
                             progress=False)
    assert graph.adjacency[index('dog'), index('cat')] == 5.0
    # A user synonym replaces the default and the name itself.
    graph = conceptnet_graph(CLASSES, assertions[0],
                             synonyms=dict(person='human'), progress=False)
    assert graph.adjacency[index('person'), index('dog')] == 4.0
    assert graph.adjacency[index('person'), index('tvmonitor')] == 0.0


def test_conceptnet_reader_counts(assertions):
    found, stats = read_assertions(assertions[1], ['dog', 'cat'],
                                   progress=False)
    assert sorted(found) == [('/r/IsA', 'cat', 'dog', 0.5),
                             ('/r/RelatedTo', 'dog', 'cat', 1.5)]
    # 11 well-formed rows between English concepts (not the 3-field row, the
    # ExternalURL and the non-English rows); only the 3-field row is
    # malformed here, the others link no wanted terms.
    assert (stats.rows, stats.english, stats.matched) == (len(ROWS), 11, 2)
    assert (stats.malformed, stats.malformed_lines) == (1, [12])


@pytest.mark.filterwarnings('ignore:.*malformed row')
def test_conceptnet_errors(assertions, tmp_path):
    with pytest.raises(ValueError, match='no ConceptNet assertion links') as e:
        conceptnet_graph(['sun', 'moon'], assertions[0], progress=False)
    assert 'rows read' in str(e.value) and "'moon'" in str(e.value)
    with pytest.raises(FileNotFoundError, match='not found'):
        conceptnet_graph(CLASSES, str(tmp_path / 'none.csv'), progress=False)
    fake = tmp_path / 'fake.csv.gz'
    fake.write_text(''.join(ROWS))
    with pytest.raises(ValueError, match='cannot read as gzip'):
        conceptnet_graph(CLASSES, str(fake), progress=False)


def test_knowledge_terms():
    assert knowledge_terms('traffic light') == ['traffic_light']
    assert knowledge_terms('tv', defaults=CONCEPTNET_TERMS) == [
        'tv', 'television']
    assert knowledge_terms('tv', {'tv': 'TV set'}, CONCEPTNET_TERMS) == [
        'tv_set']
    with pytest.raises(ValueError, match='no term'):
        knowledge_terms('tv', {'tv': []})


# ---------------------------------------------------------------- WordNet
@pytest.fixture(scope='module')
def wordnet():
    return wordnet_or_skip()


@pytest.fixture(scope='module')
def voc_wordnet(wordnet):
    return knowledge_graph(VOC_CLASSES, dict(type='wordnet'))


@pytest.mark.slow
def test_wordnet_voc_edges(voc_wordnet):
    graph = voc_wordnet
    assert graph.source['synsets']['tvmonitor'] == 'television_receiver.n.01'
    pairs = {(a, b): (w, r) for w, a, b, r in graph.edges()}
    # Hand-checked in WordNet 3.0: every link goes through a close common
    # hypernym. Wu-Palmer 2 d(lcs) / (d(a) + d(b)), depths counted from 1 at
    # entity: carnivore is at 12, cat and dog 2 steps below, so 24/28 = 6/7.
    assert pairs == {
        ('car', 'motorbike'): (pytest.approx(11 / 12),
                               'common_hypernym:motor_vehicle.n.01'),
        ('chair', 'sofa'): (pytest.approx(0.9), 'common_hypernym:seat.n.03'),
        ('bus', 'train'): (pytest.approx(8 / 9),
                           'common_hypernym:public_transport.n.01'),
        ('cow', 'sheep'): (pytest.approx(15 / 17),
                           'common_hypernym:bovid.n.01'),
        ('cat', 'dog'): (pytest.approx(6 / 7),
                         'common_hypernym:carnivore.n.01'),
        ('chair', 'diningtable'): (pytest.approx(0.8),
                                   'common_hypernym:furniture.n.01'),
        ('diningtable', 'sofa'): (pytest.approx(0.8),
                                  'common_hypernym:furniture.n.01'),
        ('person', 'pottedplant'): (pytest.approx(0.8),
                                    'common_hypernym:organism.n.01'),
    }
    person, bottle = VOC_CLASSES.index('person'), VOC_CLASSES.index('bottle')
    assert graph.adjacency[person, bottle] == 0
    np.testing.assert_array_equal(graph.adjacency, graph.adjacency.T)


@pytest.mark.slow
def test_wordnet_rules(wordnet):
    graph = knowledge_graph(
        ['dog', 'canine', 'car', 'car door', 'tree', 'forest'],
        dict(type='wordnet', synsets=dict(canine='canine.n.02')))
    pairs = {(a, b): (w, r) for w, a, b, r in graph.edges()}
    assert pairs[('dog', 'canine')] == (1.0, 'hypernym')
    assert pairs[('car', 'car door')] == (0.8, 'part_meronym')
    assert pairs[('tree', 'forest')] == (0.8, 'member_meronym')
    # Weights and the shared-hypernym rule are options.
    graph = knowledge_graph(
        ['dog', 'canine', 'cat'],
        dict(type='wordnet', synsets=dict(canine='canine.n.02'),
             hypernym_weight=0.5, max_steps=0))
    assert [e[:3] for e in graph.edges()] == [(0.5, 'dog', 'canine')]


def test_wordnet_synsets_default_and_override(wordnet):
    # COCO's mouse is the computer mouse: unrelated to a cat by default;
    # the rodent shares placental mammals within 3 steps (wup 22/27).
    default = knowledge_graph(['cat', 'mouse'], dict(type='wordnet'))
    assert not default.adjacency.any()
    rodent = knowledge_graph(['cat', 'mouse'],
                             dict(type='wordnet',
                                  synsets=dict(mouse='mouse.n.01')))
    assert rodent.adjacency[0, 1] == pytest.approx(22 / 27)


def test_wordnet_defaults_exist(wordnet):
    for name, synset in WORDNET_SYNSETS.items():
        assert wordnet.synset(synset).pos() == 'n', name
    graph = knowledge_graph(COCO_CLASSES, dict(type='wordnet'))
    assert graph.source['synsets']['mouse'] == 'mouse.n.04'
    assert graph.source['synsets']['skis'] == 'ski.n.01'


def test_wordnet_errors(wordnet):
    with pytest.raises(ValueError, match="'xyzzy': no noun") as e:
        knowledge_graph(['cat', 'xyzzy', 'qwrtp'], dict(type='wordnet'))
    assert "'qwrtp'" in str(e.value) and 'synsets=dict' in str(e.value)
    with pytest.raises(ValueError, match="synset 'cat.n.99' not in"):
        knowledge_graph(['cat'], dict(type='wordnet',
                                      synsets=dict(cat='cat.n.99')))
    for bad in (dict(max_steps=-1), dict(min_similarity=1.5),
                dict(meronym_weight='1')):
        with pytest.raises(ValueError, match='must be'):
            knowledge_graph(['cat'], dict(type='wordnet', **bad))


def test_wordnet_lexnames_order(wordnet):
    # Wrong lexicographer names would misfile these synsets.
    assert wordnet.synset('dog.n.01').lexname() == 'noun.animal'
    assert wordnet.synset('car.n.01').lexname() == 'noun.artifact'
    assert wordnet.synset('person.n.01').lexname() == 'noun.Tops'
    assert wordnet.synset('run.v.01').lexname() == 'verb.motion'
    assert wordnet.synset('quickly.r.01').lexname() == 'adv.all'
    assert len(wordnet_data.LEXNAMES) == 45


def test_wordnet_layout_is_copied_once(tmp_path, monkeypatch):
    source = wordnet_data.source_folder() if importlib.util.find_spec(
        'nltk') else None
    if source is None:
        pytest.skip('no WordNet database folder')
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    data_dir = wordnet_data.nltk_layout(source)
    corpus = os.path.join(data_dir, 'corpora', 'wordnet')
    for name in wordnet_data.DATABASE_FILES:
        path = os.path.join(corpus, name)
        assert not os.path.islink(path) and os.path.getsize(path) == \
            os.path.getsize(os.path.join(source, name))
    lines = open(os.path.join(corpus, 'lexnames')).read().splitlines()
    assert lines[5] == '05\tnoun.animal\t1' and len(lines) == 45
    stamp = os.stat(os.path.join(corpus, 'data.noun')).st_mtime_ns
    assert wordnet_data.nltk_layout(source) == data_dir
    assert os.stat(os.path.join(corpus, 'data.noun')).st_mtime_ns == stamp
    leftovers = [f for f in os.listdir(os.path.dirname(data_dir))
                 if f.startswith('.tmp')]
    assert leftovers == []


def test_wordnet_missing_database_or_nltk(tmp_path, monkeypatch):
    monkeypatch.setenv(wordnet_data.WORDNET_DIR_ENV, str(tmp_path))
    (tmp_path / 'data.noun').write_text('')
    with pytest.raises(FileNotFoundError, match='incomplete') as e:
        wordnet_data.load_wordnet()
    assert 'index.sense' in str(e.value)
    assert 'apt-get install wordnet-base wordnet-sense-index' in str(e.value)
    monkeypatch.setitem(sys.modules, 'nltk', None)
    with pytest.raises(ImportError, match='pip install nltk'):
        wordnet_data.load_wordnet()


def test_wordnet_no_database_anywhere(tmp_path, monkeypatch):
    nltk = pytest.importorskip('nltk')
    monkeypatch.delenv(wordnet_data.WORDNET_DIR_ENV, raising=False)
    monkeypatch.setattr(wordnet_data, 'DEBIAN_WORDNET_DIR',
                        str(tmp_path / 'none'))
    monkeypatch.setattr(nltk.data, 'path', [str(tmp_path)])
    with pytest.raises(FileNotFoundError,
                       match='no WordNet database found') as e:
        wordnet_data.load_wordnet()
    assert 'apt-get install wordnet-base' in str(e.value)


# ------------------------------------------------------------------ file
def small_graph():
    adjacency = np.array([[0, 2.0, 0], [2.0, 0, 0.5], [0, 0.5, 0]])
    relation = np.array([['', 'a', ''], ['a', '', 'b'], ['', 'b', '']])
    return KnowledgeGraph(np.array(['x', 'y', 'z']), adjacency, relation,
                          dict(type='test', note='é'))


def test_file_round_trip_and_class_order(tmp_path):
    path = str(tmp_path / 'k.npz')
    small_graph().save(path)
    loaded = load_knowledge_graph(path)
    np.testing.assert_array_equal(loaded.adjacency, small_graph().adjacency)
    np.testing.assert_array_equal(loaded.relation, small_graph().relation)
    assert loaded.source == dict(type='test', note='é')
    # In the dataset's order: z, x, y.
    ordered = knowledge_graph(['z', 'x', 'y'], dict(type='file', path=path))
    np.testing.assert_array_equal(
        ordered.adjacency, [[0, 0, 0.5], [0, 0, 2.0], [0.5, 2.0, 0]])
    assert ordered.relation[0, 2] == 'b'
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == ['adjacency', 'classes', 'relation',
                                      'source']


def _write(path, **overrides):
    graph = small_graph()
    arrays = dict(classes=graph.classes, adjacency=graph.adjacency,
                  relation=graph.relation, source=np.asarray('{}'))
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return str(path)


@pytest.mark.parametrize('overrides, message', [
    (dict(adjacency=np.zeros((3, 2))), 'must be a square'),
    (dict(adjacency=np.zeros((2, 2))), r'must be \(3, 3\) for 3 classes'),
    (dict(adjacency=np.array([[0, np.nan, 0], [np.nan, 0, 0], [0, 0, 0]])),
     'NaN or inf'),
    (dict(adjacency=np.array([[0, -1., 0], [-1, 0, 0], [0, 0, 0]])),
     'negative entries'),
    (dict(adjacency=np.array([[0, 1., 0], [0, 0, 0], [0, 0, 0]])),
     'not symmetric'),
    (dict(adjacency=np.eye(3)), 'non-zero diagonal'),
    (dict(relation=np.full((3, 3), '')), 'has no relation name'),
    (dict(classes=np.array(['x', 'x', 'z'])), 'names repeat'),
    (dict(relation=None), r"\['relation'\] missing"),
    (dict(source=np.asarray('{')), 'not JSON'),
])
def test_file_validation(tmp_path, overrides, message):
    path = _write(tmp_path / 'bad.npz', **overrides)
    with pytest.raises(ValueError, match=message) as e:
        load_knowledge_graph(path)
    assert path in str(e.value)


def test_file_class_mismatch_and_unreadable(tmp_path):
    path = _write(tmp_path / 'k.npz')
    with pytest.raises(ValueError, match="'w'.*not in it.*'z'") as e:
        load_knowledge_graph(path, ['x', 'y', 'w'])
    assert path in str(e.value)
    broken = tmp_path / 'broken.npz'
    broken.write_bytes(b'not a zip')
    with pytest.raises(ValueError, match='not a readable'):
        load_knowledge_graph(str(broken))
    with pytest.raises(FileNotFoundError):
        load_knowledge_graph(str(tmp_path / 'none.npz'))


def test_knowledge_options_are_checked():
    with pytest.raises(InputOptionError, match='must be a dict with a type'):
        knowledge_graph(['a'], 'wordnet')
    with pytest.raises(InputOptionError,
                       match="knowledge source type must be one of .*'kg'"):
        knowledge_graph(['a'], dict(type='kg'))
    with pytest.raises(InputOptionError,
                       match="knowledge source 'file': unknown option 'pth'"
                       '; valid options: path'):
        knowledge_graph(['a'], dict(type='file', pth='x.npz'))
    with pytest.raises(InputOptionError,
                       match="knowledge source 'file': missing the option "
                       "'path'"):
        knowledge_graph(['a'], dict(type='file'))


@pytest.mark.filterwarnings('ignore:.*malformed row')
def test_source_metadata_is_json(assertions, tmp_path):
    graph = conceptnet_graph(CLASSES, assertions[0], progress=False)
    path = str(tmp_path / 'cn.npz')
    graph.save(path)
    assert load_knowledge_graph(path).source == json.loads(
        json.dumps(graph.source))


# -------------------------------------------------------------------- CLI
VOC_CONFIG = os.path.join(ROOT, 'configs', 'mlgcn',
                          'mlgcn_resnet101_1xb16-20e_voc07-448px.py')


@pytest.mark.slow
def test_build_knowledge_graph_tool(assertions, tmp_path):
    out = str(tmp_path / 'voc_cn.npz')
    # VOC's images are not here: the names are VOCMultiLabel's own.
    log = run_tool('tools/build_knowledge_graph.py', VOC_CONFIG, '--source',
                   'conceptnet', '--conceptnet', assertions[1], '--synonyms',
                   '{"person": "human"}', '--out', out)
    assert 'class names from the defaults of VOCMultiLabel' in log
    # With person = human: dog - person through human (4.0), cat - dog
    # (1.5); tvmonitor - person (television - person) is gone.
    assert 'edges (i < j): 2 of 190' in log
    assert '4.000  dog - person  (/r/RelatedTo)' in log
    assert '1.500  cat - dog  (/r/RelatedTo)' in log
    assert 'labels without an edge: 17' in log
    graph = load_knowledge_graph(out, VOC_CLASSES)
    assert graph.adjacency[VOC_CLASSES.index('cat'),
                           VOC_CLASSES.index('dog')] == 1.5
    assert graph.source['terms']['person'] == ['human']


def test_tool_argument_errors(tmp_path):
    tool = runpy.run_path(os.path.join(ROOT, 'tools',
                                       'build_knowledge_graph.py'))
    with pytest.raises(SystemExit, match='needs --conceptnet'):
        tool['main']([VOC_CONFIG, '--source', 'conceptnet'])
    with pytest.raises(SystemExit, match='--out must end with .npz'):
        tool['main']([VOC_CONFIG, '--source', 'wordnet', '--out', 'x.csv'])
    with pytest.raises(SystemExit, match='not a JSON object'):
        tool['main']([VOC_CONFIG, '--source', 'wordnet', '--synonyms',
                      '{"tv": '])
    with pytest.raises(SystemExit, match='error: .*not found'):
        tool['main']([VOC_CONFIG, '--source', 'conceptnet', '--conceptnet',
                      str(tmp_path / 'none.csv.gz')])
    graph_tool = runpy.run_path(os.path.join(ROOT, 'tools',
                                             'build_label_graph.py'))
    assert graph_tool['knowledge_options']('k.npz') == dict(type='file',
                                                           path='k.npz')
    assert graph_tool['knowledge_options']('cn.csv.gz')['type'] == \
        'conceptnet'
    with pytest.raises(InputOptionError,
                       match="--knowledge must be 'wordnet'"):
        graph_tool['knowledge_options']('k.json')
