"""A knowledge graph A_K over a dataset's labels, and its ``.npz`` file.

A :class:`KnowledgeGraph` holds, for N class names, the symmetric
adjacency ``[A_K]_ij`` (the largest weight among the relations between
labels i and j, KSSNet's eq. 1; 0 without one; 0 on the diagonal) and, per
edge, the relation that gave that weight. :class:`EdgeMax` accumulates it
from relation triples (ConceptNet assertions, WordNet pointers).

The file is a plain ``.npz`` read without pickle:

- ``classes`` (N,) str,
- ``adjacency`` (N, N) float64,
- ``relation`` (N, N) str (``''`` where there is no edge),
- ``source`` () str, JSON metadata (where the graph came from, options).
"""
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from ...io import (ArrayFileError, InputFileError, MissingFileError,
                   read_npz, save_npz_atomic)
from ..adjacency import check_adjacency
from ..names import class_rows

#: Largest asymmetry ``max |A - A^T|`` a file may have, relative to its
#: largest entry (rounding in other tools); it is then averaged away.
SYMMETRY_TOLERANCE = 1e-6


@dataclass
class KnowledgeGraph:
    """Knowledge graph over N labels.

    Attributes:
        classes (np.ndarray): (N,) class names (str).
        adjacency (np.ndarray): (N, N) float64, symmetric, non-negative,
            zero diagonal.
        relation (np.ndarray): (N, N) str, the relation that gave each
            edge's weight, ``''`` where ``adjacency`` is 0.
        source (dict): Metadata (JSON-serialisable): the source type and
            its options, file names, counts.
    """
    classes: np.ndarray
    adjacency: np.ndarray
    relation: np.ndarray
    source: dict = field(default_factory=dict)

    def save(self, path: str) -> None:
        """Write ``path`` (.npz) atomically."""
        check_knowledge_arrays(self.classes, self.adjacency, self.relation,
                               path)
        save_npz_atomic(
            path,
            classes=np.asarray(self.classes, dtype=str),
            adjacency=np.asarray(self.adjacency, dtype=np.float64),
            relation=np.asarray(self.relation, dtype=str),
            source=np.asarray(json.dumps(self.source, sort_keys=True)))

    def edges(self) -> list:
        """``(weight, class_i, class_j, relation)`` of every edge i < j,
        strongest first."""
        rows, cols = np.nonzero(np.triu(self.adjacency, 1))
        found = [(float(self.adjacency[i, j]), str(self.classes[i]),
                  str(self.classes[j]), str(self.relation[i, j]))
                 for i, j in zip(rows, cols)]
        return sorted(found, key=lambda e: (-e[0], e[1], e[2]))


def check_knowledge_arrays(classes: np.ndarray, adjacency: np.ndarray,
                           relation: np.ndarray, origin: str) -> None:
    """Raise :class:`~mmcma.io.InputFileError` (a ``ValueError``) naming
    ``origin`` unless the arrays form a valid knowledge graph (shapes,
    finite, non-negative, degrees finite, symmetric within
    :data:`SYMMETRY_TOLERANCE`, zero diagonal, a relation on every edge)."""
    classes, adjacency = np.asarray(classes), np.asarray(adjacency)
    relation = np.asarray(relation)
    n = classes.shape[0] if classes.ndim == 1 else -1
    if n < 1:
        raise InputFileError(
            f'{origin}: classes must be a non-empty 1-D array '
            f'of names, got shape {classes.shape}')
    if len(set(classes.tolist())) != n:
        raise InputFileError(f'{origin}: its class names repeat')
    if not np.issubdtype(adjacency.dtype, np.number):
        raise InputFileError(f'{origin}: adjacency must hold numbers, got '
                             f'{adjacency.dtype}')
    try:
        adjacency = check_adjacency(adjacency, f'{origin}: adjacency')
    except ValueError as e:
        raise InputFileError(str(e)) from None
    with np.errstate(over='ignore'):
        degrees = adjacency.sum(axis=1)
    if not np.isfinite(degrees).all():
        raise InputFileError(
            f'{origin}: adjacency weights are so large (largest '
            f'{adjacency.max():.3g}) that a label\'s degree overflows; '
            'expected weights such as ConceptNet\'s (about 0.1 to 20) or '
            'WordNet similarities in [0, 1]')
    if adjacency.shape != (n, n):
        raise InputFileError(f'{origin}: adjacency must be ({n}, {n}) for {n} '
                             f'classes, got shape {adjacency.shape}')
    if np.diagonal(adjacency).any():
        raise InputFileError(f'{origin}: adjacency has a non-zero diagonal; a '
                             'label is not its own neighbour in A_K')
    scale = max(1.0, float(adjacency.max()))
    asymmetry = float(np.abs(adjacency - adjacency.T).max())
    if asymmetry > SYMMETRY_TOLERANCE * scale:
        raise InputFileError(f'{origin}: adjacency is not symmetric (largest '
                             f'|A - A^T| {asymmetry:.3g}); relations count in '
                             'both directions')
    if relation.shape != (n, n):
        raise InputFileError(f'{origin}: relation must have shape ({n}, {n}), '
                             f'got {relation.shape}')
    unnamed = (adjacency > 0) & (relation == '')
    if unnamed.any():
        i, j = np.argwhere(unnamed)[0]
        raise InputFileError(f'{origin}: the edge {classes[i]!r} - '
                             f'{classes[j]!r} has no relation name')


def load_knowledge_graph(path: str,
                         classes: Optional[Sequence[str]] = None
                         ) -> KnowledgeGraph:
    """Read and validate a knowledge graph file (no pickle).

    Args:
        path (str): An ``.npz`` written by :meth:`KnowledgeGraph.save`
            (``tools/build_knowledge_graph.py``).
        classes (Sequence[str], optional): The dataset's class names: the
            file must hold the same names (in any order); rows and columns
            are put in this order.

    Returns:
        KnowledgeGraph: With an exactly symmetric adjacency.

    Raises:
        MissingFileError: No such file.
        InputFileError: Unreadable or over the size limit
            (:func:`mmcma.io.read_npz`), missing arrays, or invalid (see
            :func:`check_knowledge_arrays`), or other class names (listing
            the differences).
    """
    if not osp.isfile(path):
        raise MissingFileError(f'knowledge graph file not found: {path}')
    keys = ('classes', 'adjacency', 'relation', 'source')
    values = read_npz(path, keys, 'knowledge graph file')
    missing = [k for k in keys if k not in values]
    if missing:
        raise ArrayFileError(f'{path}: not a knowledge graph file, {missing} '
                             f'missing (it holds {sorted(values)})')
    for key, kinds in (('classes', 'US'), ('relation', 'US'),
                       ('source', 'US')):
        if values[key].dtype.kind not in kinds:
            raise ArrayFileError(f'{path}: {key!r} must hold strings, got '
                                 f'{values[key].dtype}')
    check_knowledge_arrays(values['classes'], values['adjacency'],
                           values['relation'], path)
    try:
        source = json.loads(str(values['source']))
    except json.JSONDecodeError as e:
        raise InputFileError(f'{path}: its source metadata is not JSON '
                             f'({e})') from e
    stored = values['classes'].astype(str)
    adjacency = values['adjacency'].astype(np.float64)
    relation = values['relation'].astype(str)
    if classes is not None:
        order = class_rows(path, stored, classes)
        stored, adjacency = stored[order], adjacency[np.ix_(order, order)]
        relation = relation[np.ix_(order, order)]
    return KnowledgeGraph(classes=stored,
                          adjacency=(adjacency + adjacency.T) / 2,
                          relation=relation,
                          source=source)


class EdgeMax:
    """Builds ``[A_K]_ij = max`` over the relations found between i and j.

    Relations count in both directions, so the result is symmetric; a
    relation of a label with itself is ignored (zero diagonal). Ties keep
    the relation seen first.
    """

    def __init__(self, classes: Sequence[str]):
        self.classes = np.asarray(list(classes), dtype=str)
        n = len(self.classes)
        self.adjacency = np.zeros((n, n), dtype=np.float64)
        self.relation = np.full((n, n), '', dtype=object)

    def add(self, i: int, j: int, weight: float, relation: str) -> None:
        """Record a relation of weight ``weight`` between labels i and j."""
        if i != j and weight > self.adjacency[i, j]:
            self.adjacency[i, j] = self.adjacency[j, i] = weight
            self.relation[i, j] = self.relation[j, i] = relation

    def graph(self, source: dict) -> KnowledgeGraph:
        """The accumulated :class:`KnowledgeGraph`."""
        return KnowledgeGraph(classes=self.classes.copy(),
                              adjacency=self.adjacency.copy(),
                              relation=self.relation.astype(str),
                              source=source)
