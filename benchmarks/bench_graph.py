"""Time label counting and graph building on a synthetic COCO-sized matrix.

Usage::

    .venv/bin/python benchmarks/bench_graph.py [--images 120000] [--labels 80]

Prints a markdown table (best of ``--repeats`` runs per row).
"""
import argparse
import os
import sys
import time
from typing import Callable, List, Tuple

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mmcma.labels.graphs import build_label_graph, label_counts  # noqa: E402


def synthetic_labels(num_images: int,
                     num_labels: int,
                     seed: int = 0,
                     topic_size: int = 10) -> sp.csr_matrix:
    """A sparse ``(S, N)`` label matrix with topic-correlated labels.

    Labels are split into topics of about ``topic_size`` and given Zipf-like
    popularities. Each image draws two labels from one random topic and one
    from all labels (by popularity), and a fifth of the images one more from
    all labels; duplicates merge, which leaves about 2.9 labels per image, as
    in COCO.

    Args:
        num_images (int): Rows ``S``.
        num_labels (int): Columns ``N``.
        seed (int): Random seed.
        topic_size (int): Average number of labels per topic.

    Returns:
        scipy.sparse.csr_matrix: int8 matrix of 0/1.
    """
    rng = np.random.default_rng(seed)
    num_topics = max(1, num_labels // topic_size)
    popularity = rng.permutation(1.0 / np.arange(1, num_labels + 1)**0.8)
    topic = rng.integers(0, num_topics, num_labels)
    order = np.argsort(topic, kind='stable')
    mass = np.cumsum(popularity[order])
    ends = np.searchsorted(topic[order], np.arange(num_topics), side='right')
    starts = np.concatenate([[0], ends[:-1]])
    topic_end_mass = mass[ends - 1]
    topic_start_mass = np.where(starts > 0, mass[starts - 1], 0.0)

    image_topic = rng.integers(0, num_topics, num_images)
    image_topic = image_topic[ends[image_topic] > starts[image_topic]]
    columns = []
    for _ in range(2):
        low = topic_start_mass[image_topic]
        high = topic_end_mass[image_topic]
        draws = low + rng.random(image_topic.size) * (high - low)
        columns.append(order[np.minimum(
            np.searchsorted(mass, draws, side='right'), num_labels - 1)])
    images = np.arange(image_topic.size)
    rows = [images, images, images, images[rng.random(images.size) < 0.2]]
    for extra in rows[2:]:
        global_draws = rng.random(extra.size) * mass[-1]
        columns.append(order[np.minimum(
            np.searchsorted(mass, global_draws, side='right'),
            num_labels - 1)])
    rows = np.concatenate(rows)
    matrix = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.int8), (rows, np.concatenate(columns))),
        shape=(image_topic.size, num_labels))
    matrix.data[:] = 1
    return matrix


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Best wall-clock seconds of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--images', type=int, default=120_000)
    parser.add_argument('--labels', type=int, default=80)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    sparse_labels = synthetic_labels(args.images, args.labels, args.seed)
    dense_labels = sparse_labels.toarray().astype(np.uint8)
    counts = label_counts(sparse_labels)
    rows: List[Tuple[str, str, Callable[[], object]]] = [
        ('label_counts', 'sparse', lambda: label_counts(sparse_labels)),
        ('label_counts', 'dense uint8', lambda: label_counts(dense_labels)),
        ("build_label_graph 'conditional'", 'sparse',
         lambda: build_label_graph(sparse_labels)),
        ("build_label_graph 'conditional'", 'dense uint8',
         lambda: build_label_graph(dense_labels)),
        ("build_label_graph 'mlgcn' paper", 'sparse',
         lambda: build_label_graph(sparse_labels, 'mlgcn')),
        ("build_label_graph 'mlgcn' released", 'sparse',
         lambda: build_label_graph(
             sparse_labels, 'mlgcn', variant='released')),
        ("build_label_graph 'conditional'", 'LabelCounts',
         lambda: build_label_graph(counts)),
    ]
    print(f'{sparse_labels.shape[0]:,} images x {args.labels} labels, '
          f'{sparse_labels.nnz / sparse_labels.shape[0]:.2f} labels/image, '
          f'best of {args.repeats}, load average at start '
          f'{os.getloadavg()[0]:.2f}\n')
    print('| step | input | seconds |')
    print('|---|---|---|')
    for name, kind, fn in rows:
        print(f'| {name} | {kind} | {best_time(fn, args.repeats):.4f} |')


if __name__ == '__main__':
    main()
