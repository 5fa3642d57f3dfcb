"""A_K from ConceptNet's assertions dump, read as a stream.

ConceptNet 5 publishes every assertion in one tab-separated file
(``conceptnet-assertions-5.7.0.csv.gz``, 34 M rows, docs/knowledge_graph.md):

    /a/[/r/IsA/,/c/en/dog/n/,/c/en/animal/]  /r/IsA  /c/en/dog/n
        /c/en/animal  {"weight": 2.0, ...}      (one line, 4 tabs)

i.e. the assertion URI, the relation URI, the start and end concept URIs
and a JSON object with the assertion's ``weight``. :func:`read_assertions`
streams the file (plain or gzip) line by line, never loading it whole,
keeps the English concepts (``/c/en/<term>[/<pos>/...]``: the part of
speech and sense are dropped, so ``/c/en/dog/n/wn/animal`` is ``dog``)
whose term stands for a class (:func:`~mmcma.labels.names.knowledge_terms`)
and whose relation is selected. :func:`conceptnet_graph` turns them into
KSSNet's eq. 1, ``[A_K]_ij = max{w_r}`` over the relations between i and j in
either direction.

Malformed rows (not five tab-separated fields; for rows that link two
classes, a relation that is not ``/r/...`` or JSON without a finite,
non-negative ``weight``) are counted, reported with their first line
numbers and skipped.
"""
import gzip
import io
import json
import math
import os.path as osp
import warnings
import zlib
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                           TimeElapsedColumn)

from ...io import InputFileError, MissingFileError, bounded_lines
from .graph_file import EdgeMax, KnowledgeGraph, check_knowledge_arrays
from ..names import CONCEPTNET_TERMS, Synonyms, knowledge_terms

#: Relations that deny a link; left out unless ``relations`` names them.
NEGATIVE_RELATIONS = ('/r/Antonym', '/r/DistinctFrom', '/r/NotCapableOf',
                      '/r/NotDesires', '/r/NotHasProperty', '/r/NotUsedFor')

_ENGLISH = '/c/en/'
#: Rows between two progress-bar updates.
_PROGRESS_EVERY = 200_000
#: Longest line read (ConceptNet's longest are a few KB).
MAX_LINE_CHARS = 1 << 20
#: Malformed line numbers kept for the report.
_EXAMPLES = 5


@dataclass
class ReadStats:
    """What :func:`read_assertions` saw.

    Attributes:
        rows (int): Lines read.
        english (int): Rows whose start and end are English concepts.
        matched (int): Rows kept (both ends are class terms, relation
            selected, well formed).
        malformed (int): Rows skipped as malformed.
        malformed_lines (list[int]): The first malformed line numbers.
    """
    rows: int = 0
    english: int = 0
    matched: int = 0
    malformed: int = 0
    malformed_lines: List[int] = field(default_factory=list)

    def bad(self, lineno: int) -> None:
        """Count a malformed row."""
        self.malformed += 1
        if len(self.malformed_lines) < _EXAMPLES:
            self.malformed_lines.append(lineno)


def relation_uri(name: str) -> str:
    """``'IsA'`` or ``'/r/IsA'`` -> ``'/r/IsA'``."""
    return name if name.startswith('/r/') else f'/r/{name}'


def english_term(uri: str) -> Optional[str]:
    """The term of an English concept URI, lower case; None otherwise.

    ``'/c/en/hot_dog/n/wn/food'`` -> ``'hot_dog'``; ``'/c/fr/chien'`` -> None.
    """
    if not uri.startswith(_ENGLISH):
        return None
    term = uri[len(_ENGLISH):].split('/', 1)[0].lower()
    return term or None


def _weight(text: str) -> Optional[float]:
    """The ``weight`` of an assertion's JSON, or None if missing/invalid."""
    try:
        weight = json.loads(text).get('weight')
    except (json.JSONDecodeError, AttributeError):
        return None
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        return None
    try:
        weight = float(weight)  # a JSON integer can exceed any float
    except OverflowError:
        return None
    return weight if math.isfinite(weight) and weight >= 0 else None


def _open_text(path: str) -> Tuple[io.BufferedReader, io.TextIOWrapper]:
    """The raw file (for the position in bytes) and its text stream."""
    raw = open(path, 'rb')
    stream = gzip.GzipFile(fileobj=raw) if path.endswith('.gz') else raw
    return raw, io.TextIOWrapper(stream, encoding='utf-8', errors='replace')


def read_assertions(path: str,
                    terms: Sequence[str],
                    relations: Optional[Sequence[str]] = None,
                    progress: bool = True
                    ) -> Tuple[List[Tuple[str, str, str, float]], ReadStats]:
    """Stream a ConceptNet assertions file; keep the assertions between
    ``terms``.

    Args:
        path (str): ``.csv`` or ``.csv.gz`` (any name; ``.gz`` is
            decompressed on the fly).
        terms (Sequence[str]): English terms wanted (lower case, ``_``
            between words).
        relations (Sequence[str], optional): Relations to keep (``'IsA'``
            or ``'/r/IsA'``). Defaults to every relation except
            :data:`NEGATIVE_RELATIONS`.
        progress (bool): Show a progress bar (bytes of the file read).

    Returns:
        tuple: ``(relation, start term, end term, weight)`` of every kept
        assertion, and the :class:`ReadStats`.

    Raises:
        MissingFileError: No such file.
        InputFileError: The file is not gzip although named ``.gz``, or is
            cut short.
    """
    if not osp.isfile(path):
        raise MissingFileError(f'ConceptNet assertions file not found: '
                               f'{path}')
    wanted = set(terms)
    keep = None if relations is None else {relation_uri(r)
                                           for r in relations}
    found, stats = [], ReadStats()
    raw, lines = _open_text(path)
    bar = Progress(TextColumn('[bold]ConceptNet'), BarColumn(),
                   DownloadColumn(), TimeElapsedColumn(),
                   disable=not progress)
    try:
        with raw, lines, bar:
            task = bar.add_task('read', total=osp.getsize(path))
            lineno = 0
            for lineno, line in enumerate(bounded_lines(
                    lines, path, MAX_LINE_CHARS,
                    'ConceptNet assertions (5 tab-separated fields a line)'),
                    1):
                if lineno % _PROGRESS_EVERY == 0:
                    bar.update(task, completed=raw.tell())
                if line.count('\t') != 4:
                    stats.bad(lineno)
                    continue
                if _ENGLISH not in line:
                    continue
                _, relation, start, end, extra = line.split('\t')
                start, end = english_term(start), english_term(end)
                if start is None or end is None:
                    continue
                stats.english += 1
                if start not in wanted or end not in wanted:
                    continue
                if not relation.startswith('/r/'):
                    stats.bad(lineno)
                    continue
                if (relation not in keep) if keep is not None else \
                        relation in NEGATIVE_RELATIONS:
                    continue
                weight = _weight(extra)
                if weight is None:
                    stats.bad(lineno)
                    continue
                stats.matched += 1
                found.append((relation, start, end, weight))
            stats.rows = lineno
            bar.update(task, completed=osp.getsize(path))
    except (OSError, EOFError, zlib.error) as e:
        # gzip.BadGzipFile (not gzip) is an OSError; a cut .gz an EOFError.
        raise InputFileError(f'{path}: cannot read as '
                             f'{"gzip " if path.endswith(".gz") else ""}text '
                             f'({type(e).__name__}: {e})') from e
    return found, stats


def conceptnet_graph(classes: Sequence[str],
                     path: str,
                     synonyms: Optional[Synonyms] = None,
                     relations: Optional[Sequence[str]] = None,
                     progress: bool = True) -> KnowledgeGraph:
    """KSSNet's A_K (eq. 1) from a ConceptNet assertions file.

    Args:
        classes (Sequence[str]): N class names.
        path (str): The assertions file (``.csv`` or ``.csv.gz``).
        synonyms (Mapping, optional): Class name -> ConceptNet term(s),
            over :data:`~mmcma.labels.names.CONCEPTNET_TERMS`.
        relations (Sequence[str], optional): Relations to use; default all
            but :data:`NEGATIVE_RELATIONS`.
        progress (bool): Show a progress bar.

    Returns:
        KnowledgeGraph: ``relation`` holds the relation URI of each edge's
        largest weight; ``source`` the terms, relations and
        :class:`ReadStats`. Labels without any assertion are isolated (the
        paper's "uncovered labels").

    Raises:
        InputFileError: No assertion links two of the classes (naming the
            file, what was read and the terms looked for), or weights so
            large that a label's degree overflows.
    """
    class_terms = {name: knowledge_terms(name, synonyms, CONCEPTNET_TERMS)
                   for name in classes}
    term_classes: Dict[str, List[int]] = {}
    for i, name in enumerate(classes):
        for term in class_terms[name]:
            term_classes.setdefault(term, []).append(i)
    found, stats = read_assertions(path, list(term_classes), relations,
                                   progress)
    if stats.malformed:
        warnings.warn(f'{path}: skipped {stats.malformed} malformed row(s) '
                      f'(lines {stats.malformed_lines}...)')
    edges = EdgeMax(classes)
    for relation, start, end, weight in found:
        for i in term_classes[start]:
            for j in term_classes[end]:
                edges.add(i, j, weight, relation)
    if not edges.adjacency.any():
        raise InputFileError(
            f'{path}: no ConceptNet assertion links two of the '
            f'{len(classes)} classes ({stats.rows} rows read, '
            f'{stats.english} between English concepts, {stats.matched} '
            f'between class terms, {stats.malformed} malformed). Is it the '
            'assertions dump (tab-separated: URI, relation, start, end, '
            f'JSON)? Terms looked for: {sorted(term_classes)[:20]}; map '
            "class names with synonyms=dict(name=['term', ...])")
    graph = edges.graph(dict(
        type='conceptnet', file=osp.basename(path),
        relations=sorted(relation_uri(r) for r in relations)
        if relations is not None else f'all but {list(NEGATIVE_RELATIONS)}',
        terms=class_terms, **asdict(stats)))
    # Weights so large that a degree overflows, named here, not later as
    # "NaN or inf" in a normalisation that cannot name the file.
    check_knowledge_arrays(graph.classes, graph.adjacency, graph.relation,
                           path)
    return graph
