"""Deterministic demo data in the YouTube-8M frame-level (Segments) format.

The files are format-true: SequenceExamples with context ``id``, ``labels``
and the Segments fields ``segment_start_times``, ``segment_labels``,
``segment_scores``; feature lists ``rgb`` (1024 bytes per frame) and
``audio`` (128 bytes per frame), 8-bit quantised over [-2, 2] with
:func:`~mmcma.datasets.youtube8m_records.quantize`; written by
:func:`~mmcma.datasets.youtube8m_records.write_video_record`.

Content, designed so that label graphs and temporal attention have something
to find:

- Labels come in pairs ``(2k, 2k + 1)`` ("skiing" / "snow", ...). A video
  draws one or two primary pairs (a skewed pair frequency, so classes are
  imbalanced); label ``2k`` is always present and its partner ``2k + 1``
  co-occurs with probability ``partner_prob``. With an odd ``num_classes``
  the last label has no partner.
- Every label has a fixed random prototype direction (rgb and audio). Frames
  are Gaussian noise; each positive label adds its prototype in one window of
  ``segment_size`` frames aligned to the segment grid, a different window per
  label.
- Distractors: ``distractors`` absent labels per video add their prototype
  to ``segment_size`` scattered, pairwise non-adjacent frames outside the
  windows and inside the segment grid (fewer if the video has no room). A
  video then holds as much of an absent label's prototype as of a present
  one: pooling frames without looking at their order cannot tell them
  apart; a temporal model that sees consecutive frames (SNet's
  convolutions) can.
- Segment ratings: the window of every positive label is rated 1 for it; one
  other segment is rated 0 for it; every distractor label is rated 0 in the
  segment of its first scattered frame.

Usage::

    python -m mmcma.datasets.youtube8m_generator --out data/yt8m_demo

writes ``train/train00.tfrecord ...``, ``validate/validate00.tfrecord ...``,
``vocabulary.csv`` (``Index,Name``) and ``generation.json`` (the arguments).
"""
import argparse
import csv
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from tfrecord.writer import TFRecordWriter

from mmcma.datasets.youtube8m_records import (FEATURE_SIZES, SEGMENT_SIZE,
                                              quantize, write_video_record)

#: Names of the demo labels, in co-occurring pairs.
DEMO_LABEL_NAMES = (
    'skiing', 'snow', 'tennis', 'tennis racket', 'guitar', 'concert',
    'cooking', 'kitchen', 'car', 'road', 'dog', 'park', 'swimming', 'pool',
    'soccer', 'stadium', 'fishing', 'lake', 'piano', 'music')


def label_names(num_classes: int) -> List[str]:
    """Names of ``num_classes`` demo labels (numbered beyond the list)."""
    return [
        DEMO_LABEL_NAMES[i] if i < len(DEMO_LABEL_NAMES) else f'label {i}'
        for i in range(num_classes)
    ]


def make_prototypes(num_classes: int, seed: int,
                    signal: float) -> Dict[str, np.ndarray]:
    """Per-label prototype directions, RMS ``signal`` per dimension.

    Args:
        num_classes (int): Number of labels N.
        seed (int): Seed (the same prototypes serve every split).
        signal (float): Root-mean-square value of a prototype component.

    Returns:
        dict: ``{'rgb': (N, 1024), 'audio': (N, 128)}`` float arrays.
    """
    rng = np.random.default_rng([seed, 0])
    protos = {}
    for name, dim in FEATURE_SIZES.items():
        p = rng.standard_normal((num_classes, dim))
        protos[name] = p / np.sqrt((p**2).mean(axis=1, keepdims=True)) * signal
    return protos


def _scattered_frames(rng: np.random.Generator, free: np.ndarray,
                      count: int) -> List[int]:
    """Up to ``count`` pairwise non-adjacent frames drawn from ``free``."""
    chosen: List[int] = []
    for t in rng.permutation(free):
        if len(chosen) == count:
            break
        if all(abs(int(t) - c) > 1 for c in chosen):
            chosen.append(int(t))
    return sorted(chosen)


def sample_video(rng: np.random.Generator, num_classes: int,
                 num_frames: int, prototypes: Dict[str, np.ndarray],
                 noise: float, partner_prob: float, segment_size: int,
                 distractors: int) -> dict:
    """Draw the labels, windows, ratings and quantised frames of one video.

    Returns:
        dict: ``labels`` (sorted list), ``evidence`` ({label: frames
        carrying its prototype}; consecutive for the labels, scattered for
        the distractors), ``segments`` (list of (start, label, score)),
        ``rgb`` / ``audio`` uint8 arrays (T, 1024) / (T, 128).
    """
    num_pairs = (num_classes + 1) // 2
    weights = 1.0 / np.arange(1, num_pairs + 1)
    num_primary = 1 + int(num_pairs > 1 and rng.random() < 0.3)
    pairs = rng.choice(
        num_pairs, size=num_primary, replace=False, p=weights / weights.sum())
    labels = set()
    for k in pairs:
        labels.add(2 * int(k))
        if 2 * k + 1 < num_classes and rng.random() < partner_prob:
            labels.add(2 * int(k) + 1)
    labels = sorted(labels)

    num_slots = num_frames // segment_size
    slots = rng.choice(num_slots, size=len(labels), replace=False)
    evidence = {
        lab: list(range(s * segment_size, (s + 1) * segment_size))
        for lab, s in zip(labels, slots.tolist())
    }
    segments = []
    for lab in labels:
        start = evidence[lab][0]
        segments.append((start, lab, 1.0))
        others = [s * segment_size for s in range(num_slots)
                  if s * segment_size != start]
        segments.append((int(rng.choice(others)), lab, 0.0))

    absent = [c for c in range(num_classes) if c not in labels]
    # Distractor frames stay inside whole segments, so that their rated
    # segment exists.
    used = np.arange(num_frames) >= num_slots * segment_size
    used[[t for frames in evidence.values() for t in frames]] = True
    for lab in rng.permutation(absent)[:distractors].tolist():
        frames = _scattered_frames(rng, np.flatnonzero(~used), segment_size)
        if not frames:
            break
        used[[t + d for t in frames for d in (-1, 0, 1)
              if 0 <= t + d < num_frames]] = True
        evidence[lab] = frames
        first = frames[0] // segment_size * segment_size
        segments.append((first, lab, 0.0))
    segments.sort()

    video = dict(labels=labels, evidence=evidence, segments=segments)
    for name, protos in prototypes.items():
        frames = rng.standard_normal((num_frames, protos.shape[1])) * noise
        for lab, steps in evidence.items():
            frames[steps] += protos[lab]
        video[name] = quantize(frames)
    return video


def generate_youtube8m(out_dir: str,
                       num_train: int = 1280,
                       num_val: int = 256,
                       num_classes: int = 16,
                       min_frames: int = 30,
                       max_frames: int = 60,
                       files_per_split: int = 2,
                       seed: int = 0,
                       segments: bool = True,
                       noise: float = 0.6,
                       signal: float = 0.6,
                       partner_prob: float = 0.7,
                       distractors: int = 3,
                       segment_size: int = SEGMENT_SIZE) -> dict:
    """Write train / validate TFRecord files and a vocabulary.

    Args:
        out_dir (str): Output directory (created).
        num_train (int): Training videos. Defaults to 1280.
        num_val (int): Validation videos. Defaults to 256.
        num_classes (int): Labels. Defaults to 16.
        min_frames (int): Fewest frames of a video. Defaults to 30.
        max_frames (int): Most frames of a video. Defaults to 60.
        files_per_split (int): Shards per split. Defaults to 2.
        seed (int): Seed; the output is a function of the arguments.
            Defaults to 0.
        segments (bool): Write the Segments context fields. Defaults to True.
        noise (float): Standard deviation of the frame noise. Defaults to 0.6.
        signal (float): RMS of a label prototype component. Defaults to 0.6.
        partner_prob (float): Probability that label ``2k + 1`` accompanies
            label ``2k``. Defaults to 0.7.
        distractors (int): Absent labels per video whose prototype is
            scattered over non-adjacent frames. Defaults to 3.
        segment_size (int): Frames per segment and per label window.
            Defaults to 5.

    Returns:
        dict: The arguments and the written file paths.
    """
    if num_classes < 1 or files_per_split < 1:
        raise ValueError('num_classes and files_per_split must be positive.')
    if not segment_size <= min_frames <= max_frames:
        raise ValueError('Need segment_size <= min_frames <= max_frames.')
    max_labels = min(num_classes, 4)
    if min_frames // segment_size < max_labels:
        raise ValueError(f'min_frames must hold {max_labels} windows of '
                         f'{segment_size} frames.')
    config = dict(
        num_train=num_train,
        num_val=num_val,
        num_classes=num_classes,
        min_frames=min_frames,
        max_frames=max_frames,
        files_per_split=files_per_split,
        seed=seed,
        segments=segments,
        noise=noise,
        signal=signal,
        partner_prob=partner_prob,
        distractors=distractors,
        segment_size=segment_size)
    os.makedirs(out_dir, exist_ok=True)
    prototypes = make_prototypes(num_classes, seed, signal)
    files = {}
    for split_index, (split, count) in enumerate((('train', num_train),
                                                  ('validate', num_val))):
        rng = np.random.default_rng([seed, split_index + 1])
        split_dir = osp.join(out_dir, split)
        os.makedirs(split_dir, exist_ok=True)
        paths = [
            osp.join(split_dir, f'{split}{i:02d}.tfrecord')
            for i in range(files_per_split)
        ]
        writers = [TFRecordWriter(p) for p in paths]
        try:
            for i in range(count):
                num_frames = int(rng.integers(min_frames, max_frames + 1))
                video = sample_video(rng, num_classes, num_frames, prototypes,
                                     noise, partner_prob, segment_size,
                                     distractors)
                write_video_record(
                    writers[i % files_per_split], f'{split[0]}{i:05d}',
                    video['labels'],
                    {name: video[name]
                     for name in FEATURE_SIZES},
                    list(zip(*video['segments'])) if segments else None)
        finally:
            for w in writers:
                w.close()
        files[split] = paths
    with open(osp.join(out_dir, 'vocabulary.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['Index', 'Name'])
        writer.writerows(enumerate(label_names(num_classes)))
    with open(osp.join(out_dir, 'generation.json'), 'w') as f:
        json.dump(config, f, indent=2)
    return dict(config, files=files)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line arguments of the generator."""
    parser = argparse.ArgumentParser(
        description='Write demo YouTube-8M frame-level TFRecord files.')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--num-train', type=int, default=1280)
    parser.add_argument('--num-val', type=int, default=256)
    parser.add_argument('--num-classes', type=int, default=16)
    parser.add_argument('--min-frames', type=int, default=30)
    parser.add_argument('--max-frames', type=int, default=60)
    parser.add_argument('--files-per-split', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--no-segments',
        action='store_true',
        help='omit the Segments context fields')
    parser.add_argument('--noise', type=float, default=0.6)
    parser.add_argument('--signal', type=float, default=0.6)
    parser.add_argument('--partner-prob', type=float, default=0.7)
    parser.add_argument('--distractors', type=int, default=3)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Entry point of ``python -m mmcma.datasets.youtube8m_generator``."""
    args = parse_args(argv)
    summary = generate_youtube8m(
        args.out,
        num_train=args.num_train,
        num_val=args.num_val,
        num_classes=args.num_classes,
        min_frames=args.min_frames,
        max_frames=args.max_frames,
        files_per_split=args.files_per_split,
        seed=args.seed,
        segments=not args.no_segments,
        noise=args.noise,
        signal=args.signal,
        partner_prob=args.partner_prob,
        distractors=args.distractors)
    for split, paths in summary['files'].items():
        print(f'{split}: {len(paths)} files under '
              f'{osp.dirname(paths[0])}')


if __name__ == '__main__':
    main()
