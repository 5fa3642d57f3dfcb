"""Where a knowledge graph comes from, chosen by a ``knowledge`` dict.

- ``dict(type='file', path='voc_wordnet.npz')``: a file of
  ``tools/build_knowledge_graph.py`` (:func:`load_knowledge_graph`);
- ``dict(type='wordnet', synsets=None, ...)``: WordNet 3.0, offline
  (:func:`~mmcma.labels.knowledge.wordnet.wordnet_graph`);
- ``dict(type='conceptnet', path='conceptnet-assertions-5.7.0.csv.gz',
  synonyms=None, relations=None)``: ConceptNet's assertions dump
  (:func:`~mmcma.labels.knowledge.conceptnet.conceptnet_graph`).

:func:`knowledge_digest` identifies what a ``knowledge`` dict reads, so that
the label-state cache is not reused after the file changed.
"""
import hashlib
from typing import Callable, Dict, Optional, Sequence

from ...io import InputOptionError, check_call_options, check_choice
from .conceptnet import conceptnet_graph
from .graph_file import KnowledgeGraph, load_knowledge_graph
from .wordnet import wordnet_graph
from .wordnet_data import DATABASE_FILES, source_folder


def _file_source(classes: Sequence[str], path: str) -> KnowledgeGraph:
    return load_knowledge_graph(path, classes)


#: Knowledge sources by ``type``: (classes, **options) -> KnowledgeGraph.
KNOWLEDGE_SOURCES: Dict[str, Callable[..., KnowledgeGraph]] = {
    'file': _file_source,
    'wordnet': wordnet_graph,
    'conceptnet': conceptnet_graph,
}


def _split(options: Optional[dict]):
    if not isinstance(options, dict) or 'type' not in options:
        raise InputOptionError(
            'knowledge must be a dict with a type, one of '
            f"{sorted(KNOWLEDGE_SOURCES)}, e.g. dict(type='wordnet') or "
            f"dict(type='file', path='graph.npz'); got {options!r}")
    options = dict(options)
    kind = options.pop('type')
    check_choice('knowledge source type', kind, sorted(KNOWLEDGE_SOURCES))
    return kind, options


def knowledge_graph(classes: Sequence[str],
                    options: Optional[dict]) -> KnowledgeGraph:
    """The knowledge graph over ``classes`` that ``options`` names.

    Raises:
        InputOptionError: Not a dict with a known ``type``, or an unknown
            option (a ``ValueError``).
        ValueError: What the source raises.
    """
    kind, options = _split(options)
    source = KNOWLEDGE_SOURCES[kind]
    check_call_options(source, options, f'knowledge source {kind!r}',
                       skip=1)
    return source(classes, **options)


def _file_sha256(path: str) -> str:
    """sha256 of a file's content (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def knowledge_digest(options: Optional[dict]) -> str:
    """A hash of the data a ``knowledge`` dict reads: the content of its
    ``path`` (file, conceptnet) or of the WordNet database files; ``''``
    when it cannot be read (the graph builder then raises the clear
    error)."""
    try:
        kind, options = _split(options)
    except ValueError:
        return ''
    h = hashlib.sha256()
    try:
        if 'path' in options:
            h.update(_file_sha256(str(options['path'])).encode())
        if kind == 'wordnet':
            folder = source_folder()
            if folder is not None:
                h.update(folder.encode())
                for name in DATABASE_FILES:
                    h.update(_file_sha256(f'{folder}/{name}').encode())
    except OSError:
        return ''
    return h.hexdigest()[:16]
