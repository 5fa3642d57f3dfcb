"""Inputs and results of the multi-label inferencer: image files and
folders in, label selection, unique names, JSON-ready records out."""
import os
import os.path as osp
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from torchvision.datasets.folder import IMG_EXTENSIONS

InputType = Union[str, os.PathLike, np.ndarray]


def expand_inputs(
        inputs: Union[InputType, Sequence[InputType]]) -> List[InputType]:
    """Image files and arrays; a folder becomes its image files.

    Folders are searched recursively for torchvision's image extensions
    (``IMG_EXTENSIONS``, any case), in sorted path order. Arrays (BGR, as
    ``mmcv.imread`` gives) pass through.

    Raises:
        FileNotFoundError: A path does not exist, or a folder holds no
            image.
    """
    if isinstance(inputs, (str, os.PathLike, np.ndarray)):
        inputs = [inputs]
    files: List[InputType] = []
    for item in inputs:
        if isinstance(item, np.ndarray):
            files.append(item)
            continue
        path = os.fspath(item)
        if osp.isdir(path):
            found = sorted(
                osp.join(root, name) for root, _, names in os.walk(path)
                for name in names if name.lower().endswith(IMG_EXTENSIONS))
            if not found:
                raise FileNotFoundError(
                    f'no image ({", ".join(IMG_EXTENSIONS)}) in folder '
                    f'{path}')
            files.extend(found)
        elif osp.isfile(path):
            files.append(path)
        else:
            raise FileNotFoundError(f'input not found: {path}')
    return files


def select_labels(scores: np.ndarray,
                  thr: Optional[float] = None,
                  topk: Optional[int] = None) -> List[int]:
    """Labels predicted positive, best first.

    Exactly one rule: ``thr`` keeps every label with ``score >= thr``;
    ``topk`` keeps the k best. Ties keep the lower index first.

    Args:
        scores (np.ndarray): Probabilities (N,).
        thr (float, optional): Score threshold.
        topk (int, optional): Number of labels, 1 <= k <= N.

    Returns:
        List[int]: Label indices by decreasing score.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if (thr is None) == (topk is None):
        raise ValueError(f'give exactly one of thr and topk, got thr={thr}, '
                         f'topk={topk}')
    order = np.argsort(-scores, kind='stable')
    if topk is not None:
        if not 1 <= topk <= len(scores):
            raise ValueError(f'topk must be in [1, {len(scores)}], got '
                             f'{topk}')
        return order[:topk].tolist()
    return [int(k) for k in order if scores[k] >= thr]


def unique_names(files: Sequence[InputType]) -> List[str]:
    """A file name stem per input (``i`` for arrays), made unique with a
    ``_<n>`` suffix where two folders hold the same name."""
    names, seen = [], {}
    for i, item in enumerate(files):
        stem = Path(item).stem if isinstance(item, str) else str(i)
        count = seen.get(stem, 0)
        seen[stem] = count + 1
        names.append(stem if count == 0 else f'{stem}_{count}')
    return names


def patch_records(top, classes: Sequence[str]) -> List[dict]:
    """:class:`~mmcma.models.spatial_context.TopPatches` as plain dicts
    (``box``, ``context_box``, ``label``, ``class``, ``score``)."""
    return [
        dict(box=box, context_box=context, label=label, score=score,
             **{'class': classes[label]})
        for box, context, label, score in zip(
            top.boxes.tolist(), top.context_boxes.tolist(),
            top.labels.tolist(), top.scores.tolist())
    ]


def to_json(results: Sequence[dict], classes: Sequence[str],
            selection: Dict[str, float]) -> dict:
    """A JSON-serialisable record of inference results.

    Schema: ``{"classes": [N names], "selection": {"thr": t} | {"topk": k},
    "predictions": [{"image", "pred_labels", "pred_classes",
    "pred_label_scores", "pred_scores" (N floats)[, "patches"]}]}``
    (``patches`` as in the inferencer's results, when asked for).
    """
    keys = ('image', 'pred_labels', 'pred_classes', 'pred_label_scores',
            'patches')
    return dict(
        classes=list(classes),
        selection=dict(selection),
        predictions=[
            dict({k: r[k] for k in keys if k in r},
                 pred_scores=[float(s) for s in r['pred_scores']])
            for r in results
        ])
