"""KSSNet's KS graph: a statistical graph superimposed with a knowledge graph.

Wang et al., *Multi-Label Classification with Label Graph Superimposing*
(AAAI 2020), section "Label graph superimposing", one function per
equation:

0. both graphs are taken as neighbour graphs: their diagonals are set to 0
   (:func:`drop_self_loops`); the self-loops of the KS graph are eq. 4's
   ``(1 - eta) I`` alone;
1. each graph normalised, ``A' = D^-1/2 A D^-1/2`` with ``D_ii = sum_j A_ij``
   (:func:`~mmcma.labels.adjacency.symmetric_normalization`; an asymmetric
   graph is symmetrised first, ``(A + A^T) / 2``, so that one degree per
   label is defined);
2. superimposed, ``A = lam A'_S + (1 - lam) A'_K`` (eq. 2,
   :func:`superimpose`), and "the resulted new adjacency matrix is
   normalized" (the sentence before eq. 2): the same normalisation,
   ``superimposed_norm='symmetric'`` (the default); ``'none'`` skips it
   (what mmcma did before, :data:`SUPERIMPOSED_NORMS`);
3. thresholded, entries ``< tau`` set to 0 (eq. 3, :func:`threshold`);
4. self-weighted, ``A_KS = eta A_tau + (1 - eta) I`` (eq. 4,
   :func:`self_weight`);
5. normalised again (the same function);
   the GCN propagates with ``A'_KS`` (:func:`ks_superimpose` runs 1-5).

A label with zero degree (no edge and no self-loop) keeps a zero row and
column in a normalised graph: ``D^-1/2`` is taken as 0 there, never inf or
NaN. After step 4 every label has the self-loop ``1 - eta``, so only
``eta = 1`` can leave one isolated.

Building ``A_S`` (ML-GCN's graph) and ``A_K`` (a knowledge graph) from data
is :func:`ks_graph` (``build_label_graph(kind='ks')``).
"""
import numbers
from typing import Optional, Sequence

import numpy as np

from ...io import InputOptionError, check_choice
from ..adjacency import check_adjacency, symmetric_normalization
from ..knowledge import knowledge_graph
from .counts import LabelCounts
from .statistical import mlgcn_graph


#: What follows eq. 2: ``'symmetric'`` normalises the superimposed graph
#: (``D^-1/2 A D^-1/2``, the paper's text), ``'none'`` leaves it as the
#: weighted average.
SUPERIMPOSED_NORMS = ('symmetric', 'none')


def _check_fraction(value, name: str, upper: float = 1.0) -> float:
    if not (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and 0 <= value <= upper):
        raise InputOptionError(
            f'{name} must be a number in [0, {upper:g}], got '
            f'{value!r}')
    return float(value)


def drop_self_loops(graph: np.ndarray) -> np.ndarray:
    """A copy of ``graph`` with a zero diagonal."""
    graph = np.array(graph, dtype=np.float64)
    np.fill_diagonal(graph, 0.0)
    return graph


def superimpose(statistics: np.ndarray, knowledge: np.ndarray,
                lam: float) -> np.ndarray:
    """Eq. 2: ``lam A'_S + (1 - lam) A'_K`` of two normalised graphs.

    Args:
        statistics (np.ndarray): (N, N) normalised statistical graph.
        knowledge (np.ndarray): (N, N) normalised knowledge graph.
        lam (float): Weight of the statistics, in [0, 1].
    """
    lam = _check_fraction(lam, 'lam')
    statistics = check_adjacency(statistics, 'statistical graph')
    knowledge = check_adjacency(knowledge, 'knowledge graph')
    if statistics.shape != knowledge.shape:
        raise ValueError(f'the statistical graph {statistics.shape} and the '
                         f'knowledge graph {knowledge.shape} differ in size')
    return lam * statistics + (1 - lam) * knowledge


def normalize_superimposed(graph: np.ndarray,
                           superimposed_norm: str = 'symmetric'
                           ) -> np.ndarray:
    """The normalisation after eq. 2 ("the resulted new adjacency matrix
    is normalized").

    Args:
        graph (np.ndarray): (N, N) superimposed graph ``A`` of eq. 2.
        superimposed_norm (str): ``'symmetric'`` (``D^-1/2 A D^-1/2``,
            as ``A'_S`` and ``A'_K``) or ``'none'`` (``A`` unchanged).

    Returns:
        np.ndarray: (N, N) float64.
    """
    check_choice('superimposed_norm', superimposed_norm, SUPERIMPOSED_NORMS)
    graph = np.asarray(graph, dtype=np.float64)
    if superimposed_norm == 'none':
        return graph
    return symmetric_normalization(graph)


def threshold(graph: np.ndarray, tau: float) -> np.ndarray:
    """Eq. 3: entries ``< tau`` set to 0 (the diagonal included)."""
    tau = _check_fraction(tau, 'tau', upper=float('inf'))
    graph = np.asarray(graph, dtype=np.float64)
    return np.where(graph < tau, 0.0, graph)


def self_weight(graph: np.ndarray, eta: float) -> np.ndarray:
    """Eq. 4: ``A_KS = eta A_tau + (1 - eta) I``."""
    eta = _check_fraction(eta, 'eta')
    graph = np.asarray(graph, dtype=np.float64)
    return eta * graph + (1 - eta) * np.eye(graph.shape[0])


def ks_superimpose(statistics: np.ndarray,
                   knowledge: np.ndarray,
                   lam: float = 0.4,
                   tau: float = 0.02,
                   eta: float = 0.4,
                   superimposed_norm: str = 'symmetric') -> np.ndarray:
    """The normalised KS graph ``A'_KS`` from ``A_S`` and ``A_K``.

    Defaults are the paper's MS-COCO values; Charades used ``lam=0.6``,
    ``tau=0.03``, ``eta=0.4``. ``lam=1`` uses the statistics alone,
    ``lam=0`` the knowledge alone.

    Args:
        statistics (np.ndarray): (N, N) statistical graph A_S (its
            diagonal is ignored).
        knowledge (np.ndarray): (N, N) knowledge graph A_K (its diagonal
            is ignored).
        lam (float): Eq. 2's weight of the statistics, in [0, 1].
        tau (float): Eq. 3's threshold, >= 0.
        eta (float): Eq. 4's weight of the neighbours, in [0, 1].
        superimposed_norm (str): After eq. 2, ``'symmetric'`` (the
            paper) or ``'none'`` (:func:`normalize_superimposed`).

    Returns:
        np.ndarray: (N, N) float64 ``A'_KS``, symmetric, finite.
    """
    check_choice('superimposed_norm', superimposed_norm, SUPERIMPOSED_NORMS)
    superimposed = normalize_superimposed(
        superimpose(symmetric_normalization(drop_self_loops(statistics)),
                    symmetric_normalization(drop_self_loops(knowledge)),
                    lam), superimposed_norm)
    return symmetric_normalization(
        self_weight(threshold(superimposed, tau), eta))


def check_ks_inputs(num_labels: int, classes: Optional[Sequence[str]],
                    knowledge: Optional[dict], superimposed_norm: str) -> None:
    """Refuse a KS graph without the N class names or a knowledge source
    (``InputOptionError``), or with an unknown ``superimposed_norm``."""
    if classes is None or len(classes) != num_labels:
        raise InputOptionError(
            f"the 'ks' graph needs the names of the {num_labels} "
            'classes (build_label_graph(..., classes=...)), got '
            f'{None if classes is None else len(classes)}')
    if knowledge is None:
        raise InputOptionError("the 'ks' graph needs knowledge=dict(type="
                               "'wordnet' | 'conceptnet' | 'file', ...)")
    check_choice('superimposed_norm', superimposed_norm, SUPERIMPOSED_NORMS)


def ks_graph(counts: LabelCounts,
             classes: Optional[Sequence[str]] = None,
             knowledge: Optional[dict] = None,
             lam: float = 0.4,
             tau: float = 0.02,
             eta: float = 0.4,
             t: float = 0.4,
             variant: str = 'paper',
             superimposed_norm: str = 'symmetric') -> np.ndarray:
    """KSSNet's normalised KS graph ``A'_KS`` (the GCN uses it as is).

    ``A_S`` is ML-GCN's graph (:func:`mlgcn_graph` with ``t`` and
    ``variant``: "A_S is constructed by following Chen et al. 2019"), ``A_K``
    the knowledge graph that ``knowledge`` names
    (:func:`mmcma.labels.knowledge.knowledge_graph`).
    :func:`ks_superimpose` takes their neighbours (ML-GCN's
    self-loops are dropped: eq. 4 sets the KS graph's own), symmetrises,
    normalises, superimposes (and normalises the sum, unless
    ``superimposed_norm='none'``), thresholds and self-weights them. ML-GCN's
    ``p`` only scales the neighbours, which the normalisation undoes, so it
    is not an option here. Defaults: the paper's MS-COCO values
    ``lam=0.4, tau=0.02, eta=0.4``.

    Args:
        counts (LabelCounts): Counts from :func:`label_counts`.
        classes (Sequence[str]): N class names (the knowledge graph is
            over names).
        knowledge (dict): ``dict(type='wordnet' | 'conceptnet' | 'file',
            **options)``.
        lam, tau, eta (float): Eq. 2-4 of the paper.
        t, variant: Options of :func:`mlgcn_graph`.
        superimposed_norm (str): ``'symmetric'`` (default, the paper's
            normalisation after eq. 2) or ``'none'``.

    Returns:
        np.ndarray: (N, N) float64, symmetric.
    """
    check_ks_inputs(counts.num_labels, classes, knowledge, superimposed_norm)
    statistics = mlgcn_graph(counts, t, variant=variant)
    return ks_superimpose(statistics,
                          knowledge_graph(classes, knowledge).adjacency, lam,
                          tau, eta, superimposed_norm)
