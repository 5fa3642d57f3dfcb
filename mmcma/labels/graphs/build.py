"""Build a label graph of any kind from a label matrix.

Kinds (:data:`GRAPH_KINDS`): ``'conditional'`` and ``'mlgcn'``
(:mod:`.statistical`), ``'ks'`` (:mod:`.ks`, needs the class names). What
normalisation each kind's graph already carries is
:data:`GRAPH_NORMALIZATION` (:mod:`mmcma.labels.adjacency`).
"""
import inspect
from typing import Callable, Dict, Optional, Sequence, Union

import numpy as np
import scipy.sparse as sp

from ...io import check_choice, check_option_names, keyword_names
from .counts import LabelCounts, LabelMatrix, label_counts
from .ks import ks_graph
from .ks_sparse import sparse_ks_graph
from .sparse import sparse_mlgcn_graph
from .statistical import conditional_graph, mlgcn_graph

_GRAPH_BUILDERS: Dict[str, Callable[..., np.ndarray]] = {
    'conditional': conditional_graph,
    'mlgcn': mlgcn_graph,
    'ks': ks_graph,
}
GRAPH_KINDS = tuple(_GRAPH_BUILDERS)

#: The normalisation a graph of each kind carries when it is built: the
#: statistical graphs are raw (a GCN normalises them), the KS graph is
#: KSSNet's normalised ``A'_KS``.
GRAPH_NORMALIZATION: Dict[str, str] = {
    'conditional': 'none',
    'mlgcn': 'none',
    'ks': 'symmetric',
}


def graph_option_names(kind: str) -> tuple:
    """The option names graph kind ``kind`` accepts (its builder's
    keyword arguments, without ``classes``)."""
    check_choice('graph kind', kind, GRAPH_KINDS)
    return tuple(p for p in keyword_names(_GRAPH_BUILDERS[kind], skip=1)
                 if p != 'classes')


def build_label_graph(labels: Union[LabelMatrix, LabelCounts],
                      kind: str = 'conditional',
                      classes: Optional[Sequence[str]] = None,
                      **options) -> np.ndarray:
    """Build an ``(N, N)`` float64 label graph from annotations.

    Args:
        labels (np.ndarray | scipy.sparse | LabelCounts): ``(S, N)`` binary
            label matrix (see :func:`label_counts`), or counts already
            computed from one.
        kind (str): ``'conditional'`` (:func:`conditional_graph`, options
            ``symmetric``), ``'mlgcn'`` (:func:`mlgcn_graph`, options
            ``t``, ``p``, ``variant``) or ``'ks'`` (:func:`ks_graph`,
            options ``knowledge``, ``lam``, ``tau``, ``eta``, ``t``,
            ``variant``). Defaults to ``'conditional'``.
        classes (Sequence[str], optional): N class names, given to the
            kinds that use them (``'ks'``); the others ignore them.
        **options: Options of the chosen kind.

    Returns:
        np.ndarray: ``(N, N)`` float64 graph.

    Raises:
        InputOptionError: For an unknown kind or option (a ``ValueError``).
        ValueError: Invalid labels.

    Example:
        >>> import numpy as np
        >>> labels = np.array([[1, 1], [1, 0]])
        >>> build_label_graph(labels, symmetric=False)
        array([[1. , 1. ],
               [0.5, 1. ]])
    """
    valid = graph_option_names(kind)
    builder = _GRAPH_BUILDERS[kind]
    check_option_names(options, valid, f'graph kind {kind!r}')
    counts = labels if isinstance(labels, LabelCounts) else label_counts(
        labels)
    if 'classes' in inspect.signature(builder).parameters:
        options['classes'] = classes
    return builder(counts, **options)


#: The kinds :func:`build_sparse_label_graph` builds: the thresholded ones.
SPARSE_GRAPH_KINDS = ('mlgcn', 'ks')


def build_sparse_label_graph(labels: LabelMatrix,
                             kind: str = 'mlgcn',
                             classes: Optional[Sequence[str]] = None,
                             **options) -> sp.csr_matrix:
    """:func:`build_label_graph` of a thresholded kind as a scipy CSR matrix
    (:func:`~mmcma.labels.graphs.sparse_mlgcn_graph`,
    :func:`~mmcma.labels.graphs.sparse_ks_graph`): the same values, the
    same options, from the label matrix (not counts)."""
    check_choice('sparse graph kind', kind, SPARSE_GRAPH_KINDS)
    check_option_names(options, graph_option_names(kind),
                       f'graph kind {kind!r}')
    if kind == 'ks':
        return sparse_ks_graph(labels, classes, **options)
    return sparse_mlgcn_graph(labels, **options)
