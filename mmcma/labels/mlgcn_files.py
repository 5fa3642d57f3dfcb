"""Read ML-GCN's released label files into mmcma's plain arrays.

ML-GCN (Chen et al., *Multi-Label Image Recognition with Graph Convolutional
Networks*, CVPR 2019) ships two pickles per dataset:

- ``{data}_adj.pkl``: a dict with ``adj`` (N, N), the number of training
  images with both labels i and j (i != j; the diagonal is 0), and ``nums``
  (N,), the number of training images with label i;
- ``{data}_glove_word2vec.pkl``: an (N, 300) array, the GloVe vectors of the
  class names.

Unpickling runs whatever code a pickle names, so these readers refuse
unless the caller passes ``trust_pickle=True`` for files from a source they
trust. What they return is plain arrays: :func:`mlgcn_label_state` makes the
:class:`~mmcma.labels.LabelState` (``.npz``, no pickle) that
``tools/convert_mlgcn_files.py`` writes from both files; from the vectors
alone it writes ``classes`` and ``embeddings`` (the ``'file'`` source's
format).
"""
import hashlib
import pickle
import warnings
from typing import Optional, Sequence

import numpy as np

from ..io import InputFileError, InputOptionError
from .graphs import GRAPH_NORMALIZATION, LabelCounts, build_label_graph
from .state import LabelState
from .vectors import check_embedding


def _unpickle(path: str, trust_pickle: bool):
    """Unpickle ``path`` if trusted; Python 2 pickles are read as latin-1.
    """
    if not trust_pickle:
        raise PermissionError(
            f'refusing to unpickle {path}: loading a pickle runs any code '
            'it names. Pass trust_pickle=True (--trust-pickle) only for '
            "files from a source you trust, such as ML-GCN's release.")
    with open(path, 'rb') as f:
        data = f.read()
    try:
        return pickle.loads(data)
    except UnicodeDecodeError:
        return pickle.loads(data, encoding='latin1')
    except Exception as e:
        raise InputFileError(f'{path}: not a readable pickle '
                             f'({type(e).__name__}: {e})') from e


def _counts_array(value, path: str, name: str, ndim: int) -> np.ndarray:
    """Check that ``value`` holds non-negative whole numbers of ``ndim``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InputFileError(f'{path}: {name!r} is not numeric ({e})') from e
    if array.ndim != ndim:
        raise InputFileError(f'{path}: {name!r} must be {ndim}-D, got shape '
                             f'{array.shape}')
    if not np.isfinite(array).all() or (array < 0).any() or \
            (array != np.round(array)).any():
        raise InputFileError(
            f'{path}: {name!r} must hold counts (non-negative '
            'whole numbers)')
    return array.astype(np.int64)


def read_mlgcn_adj(path: str, trust_pickle: bool = False) -> LabelCounts:
    """Label counts from ML-GCN's ``*_adj.pkl``.

    The counts carry ``nums`` on the diagonal of ``co_counts``, as
    :func:`~mmcma.labels.graphs.label_counts` does; ML-GCN's ``adj``
    diagonal is
    ignored (a non-zero one gets a warning: ``gen_A`` would use it).
    ``num_images`` is 0: the file does not record it.

    Raises:
        PermissionError: ``trust_pickle`` is False.
        ValueError: Not a dict with ``adj`` (N, N) and ``nums`` (N,) counts,
            ``adj`` not symmetric, or a pair counted more often than a label.
    """
    data = _unpickle(path, trust_pickle)
    if not isinstance(data, dict) or not {'adj', 'nums'} <= set(data):
        raise InputFileError(f'{path}: expected a dict with "adj" and "nums", '
                             f'got {type(data).__name__}'
                             + (f' with keys {sorted(data)}'
                            if isinstance(data, dict) else ''))
    adj = _counts_array(data['adj'], path, 'adj', 2)
    nums = _counts_array(data['nums'], path, 'nums', 1)
    n = len(nums)
    if adj.shape != (n, n):
        raise InputFileError(
            f'{path}: adj has shape {adj.shape}, nums has {n} '
            'labels')
    if (adj != adj.T).any():
        raise InputFileError(
            f'{path}: adj is not symmetric; expected counts of '
            'images with both labels')
    if np.diagonal(adj).any():
        warnings.warn(f'{path}: adj has a non-zero diagonal; it is ignored '
                      '(co-occurrences of distinct labels only, as in '
                      "ML-GCN's released files)")
    co_counts = adj.copy()
    np.fill_diagonal(co_counts, nums)
    if (co_counts > nums[:, None]).any():
        i, j = np.argwhere(co_counts > nums[:, None])[0]
        raise InputFileError(f'{path}: labels {i} and {j} occur together in '
                             f'{co_counts[i, j]} images, label {i} in only '
                             f'{nums[i]}')
    return LabelCounts(num_images=0, counts=nums, co_counts=co_counts)


def read_mlgcn_vectors(path: str, num_labels: int,
                       trust_pickle: bool = False) -> np.ndarray:
    """The (N, D) label vectors of ML-GCN's ``*_glove_word2vec.pkl``.

    Raises:
        PermissionError: ``trust_pickle`` is False.
        ValueError: Not an (N, D) numeric array (see
            :func:`~mmcma.labels.vectors.check_embedding`).
    """
    data = _unpickle(path, trust_pickle)
    try:
        array = np.asarray(data, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise InputFileError(f'{path}: expected an (N, D) array, got '
                             f'{type(data).__name__}') from e
    return check_embedding(array, num_labels, None, path)


def mlgcn_label_state(classes: Sequence[str],
                      counts: LabelCounts,
                      num_images: int,
                      vectors: Optional[np.ndarray] = None,
                      graph: Optional[dict] = None) -> LabelState:
    """A :class:`LabelState` from ML-GCN's counts (and vectors).

    Args:
        classes (Sequence[str]): The N class names, in the files' order.
        counts (LabelCounts): From :func:`read_mlgcn_adj`.
        num_images (int): Training images the counts come from (label
            frequencies are counts / images; ML-GCN's file lacks it).
        vectors (np.ndarray, optional): (N, D) from
            :func:`read_mlgcn_vectors`; without them the state holds no
            label vectors, (N, 0).
        graph (dict, optional): Options of
            :func:`~mmcma.labels.graphs.build_label_graph`. Defaults to
            ML-GCN's
            released construction, ``kind='mlgcn', variant='released',
            t=0.4``.

    Raises:
        ValueError: Sizes that disagree, or ``num_images`` below a count.
    """
    n = len(classes)
    if counts.num_labels != n:
        raise InputOptionError(
            f'the counts have {counts.num_labels} labels, the '
            f'class list {n}')
    if num_images < counts.counts.max(initial=0):
        raise InputOptionError(f'num_images={num_images} is below the largest '
                               f'label count, {counts.counts.max()}')
    counts = LabelCounts(int(num_images), counts.counts, counts.co_counts)
    options = dict(kind='mlgcn', variant='released', t=0.4)
    options.update(graph or {})
    if vectors is None:
        vectors = np.zeros((n, 0), np.float32)
    else:
        vectors = check_embedding(vectors, n, None, 'label vectors')
    key = hashlib.sha256(repr((list(classes), num_images, options)).encode())
    key.update(counts.co_counts.tobytes() + vectors.tobytes())
    return LabelState(
        classes=np.asarray(list(classes), dtype=str),
        num_samples=int(num_images),
        counts=counts.counts,
        co_counts=counts.co_counts,
        graph=build_label_graph(counts, **options),
        graph_normalization=GRAPH_NORMALIZATION[options['kind']],
        embedding=vectors,
        embedding_loss=float('nan'),
        key='mlgcn-files-' + key.hexdigest()[:16])
