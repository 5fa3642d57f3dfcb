"""One error type for bad input: its kinds, and the readers that now name
their file instead of a bare EOFError, TypeError or a late NaN."""
import gzip
import json
import os

import numpy as np
import pytest

import mmcma
from mmcma.compat import CheckpointError
from mmcma.datasets import (BoxAnnotationError, CocoMultiLabel,
                            DataFileError, ImageLoadError,
                            ImageTooLargeError)
from mmcma.datasets.coco import CocoAnnotationError
from mmcma.engine.checks import ClassCountError
from mmcma.io import (ArrayFileError, InputError, InputFileError,
                      InputOptionError, MissingFileError, TooLargeError)
from mmcma.labels import build_label_graph
from mmcma.labels.knowledge import conceptnet_graph, wordnet_data
from mmcma.labels.vectors.word_vectors import (MAX_LINE_CHARS,
                                               text_file_label_vectors)

VECTORS = b'cat 0.1 0.2\ndog 0.3 0.4\n'


def test_hierarchy_keeps_the_builtin_types():
    assert mmcma.InputError is InputError
    for kind in (InputFileError, InputOptionError, MissingFileError,
                 ArrayFileError, TooLargeError, DataFileError,
                 CocoAnnotationError, BoxAnnotationError, ImageLoadError,
                 ImageTooLargeError, CheckpointError, ClassCountError):
        assert issubclass(kind, InputError) and issubclass(kind, ValueError)
    # The kinds that were another builtin stay that builtin too.
    assert issubclass(MissingFileError, FileNotFoundError)
    assert issubclass(ImageLoadError, RuntimeError)
    assert issubclass(CheckpointError, RuntimeError)
    assert issubclass(ImageTooLargeError, TooLargeError)


def test_gz_vector_file_cut_or_not_gzip(tmp_path):
    whole = gzip.compress(VECTORS * 200, mtime=0)
    cut = tmp_path / 'cut.txt.gz'
    cut.write_bytes(whole[:len(whole) // 2])
    with pytest.raises(InputFileError, match=f'{cut}: cannot be read as '
                       'gzip-compressed word-vector text .*EOFError.*cut '
                       'short'):
        text_file_label_vectors(str(cut), ['cat', 'dog', 'zebra'])
    plain = tmp_path / 'plain.txt.gz'
    plain.write_bytes(VECTORS)
    with pytest.raises(InputFileError, match=f'{plain}: cannot be read as '
                       'gzip-compressed .*BadGzipFile.*named .gz without '
                       'being gzip'):
        text_file_label_vectors(str(plain), ['cat'])
    with pytest.raises(MissingFileError, match='word vector file not found'):
        text_file_label_vectors(str(tmp_path / 'none.txt'), ['cat'])


def test_vector_line_too_long(tmp_path):
    path = tmp_path / 'long.txt'
    path.write_bytes(b'cat ' + b'1 ' * MAX_LINE_CHARS)
    with pytest.raises(InputFileError, match=f'{path}: a line longer than '
                       f'{MAX_LINE_CHARS:,} characters'):
        text_file_label_vectors(str(path), ['cat'])


def test_conceptnet_weights_that_overflow(tmp_path):
    def row(a, b, weight):
        return '\t'.join(('/a/x', '/r/IsA', f'/c/en/{a}', f'/c/en/{b}',
                          '{"weight": %s}' % weight))

    path = tmp_path / 'cn.csv'
    # Each weight is finite, but a degree (the row sum) is not.
    path.write_text('\n'.join([row('cat', 'dog', '1e308'),
                               row('cat', 'tree', '1.5e308')]) + '\n')
    with pytest.raises(InputFileError, match=f"{path}: adjacency weights "
                       'are so large .* degree overflows'):
        conceptnet_graph(['cat', 'dog', 'tree'], str(path), progress=False)
    # A JSON integer beyond any float is a malformed row, not a crash.
    path.write_text('\n'.join([row('cat', 'dog', '1' + '0' * 400),
                               row('cat', 'tree', '2')]) + '\n')
    with pytest.warns(UserWarning, match='skipped 1 malformed row'):
        graph = conceptnet_graph(['cat', 'dog', 'tree'], str(path),
                                 progress=False)
    assert graph.adjacency[0, 1] == 0 and graph.adjacency[0, 2] == 2


def test_empty_wordnet_database(tmp_path, monkeypatch):
    monkeypatch.setenv(wordnet_data.WORDNET_DIR_ENV, str(tmp_path))
    for name in wordnet_data.DATABASE_FILES:
        (tmp_path / name).write_text('')
    with pytest.raises(InputFileError, match=f'WordNet database in '
                       f'{tmp_path} has empty files .*data.noun'):
        wordnet_data.load_wordnet()


def test_damaged_wordnet_database(tmp_path, monkeypatch):
    pytest.importorskip('nltk')
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    monkeypatch.setenv(wordnet_data.WORDNET_DIR_ENV, str(tmp_path / 'db'))
    (tmp_path / 'db').mkdir()
    for name in wordnet_data.DATABASE_FILES:
        (tmp_path / 'db' / name).write_text('  1 this is no database\n')
    with pytest.raises(InputFileError, match='is empty or damaged: its root '
                       'noun entity.n.01 cannot be read'):
        wordnet_data.load_wordnet()


def test_graph_kind_options_by_name():
    labels = np.eye(3, dtype=np.uint8)
    with pytest.raises(InputOptionError, match="graph kind must be one of "
                       r"\('conditional', .*got 'cond'"):
        build_label_graph(labels, kind='cond')
    with pytest.raises(InputOptionError, match="graph kind 'mlgcn': unknown "
                       "option 'tau'; valid options: "):
        build_label_graph(labels, kind='mlgcn', tau=0.4)


def test_coco_annotation_needs_an_integer_id(tmp_path):
    """Found by the fuzz suite: pycocotools indexes annotations by id and
    failed with a bare KeyError."""
    data = dict(images=[dict(id=1, file_name='a.png')],
                categories=[dict(id=1, name='cat')],
                annotations=[dict(image_id=1, category_id=1)])
    path = tmp_path / 'ann.json'
    for ann, match in (({}, 'annotations\\[0\\] has no "id"'),
                       (dict(id=[]), 'annotations\\[0\\] has id \\[\\]')):
        data['annotations'] = [dict(image_id=1, category_id=1, **ann)]
        path.write_text(json.dumps(data))
        with pytest.raises(CocoAnnotationError, match=f'{path}: {match}'):
            CocoMultiLabel(ann_file=str(path))
    assert os.path.isfile(path)
