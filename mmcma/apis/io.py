"""Inputs and results of the multi-label inferencer: image files and
folders in (checked where they enter), unique figure names, JSON-ready
records out."""
import os
import os.path as osp
from pathlib import Path
from typing import (Callable, Dict, List, Optional, Sequence, Tuple,
                    Union)

import mmcv
import numpy as np
from mmengine.dataset import default_collate
from torchvision.datasets.folder import IMG_EXTENSIONS

from ..datasets.image_check import ImageTooLargeError, check_image_size
from .errors import InferenceInputError, MissingInputError, file_error

InputType = Union[str, os.PathLike, np.ndarray]


def expand_inputs(
        inputs: Union[InputType, Sequence[InputType]]) -> List[InputType]:
    """Image files and arrays; a folder becomes its image files.

    Folders are searched recursively for torchvision's image extensions
    (``IMG_EXTENSIONS``, any case), in sorted path order. Arrays (BGR, as
    ``mmcv.imread`` gives) pass through.

    Raises:
        MissingInputError: A path does not exist, or a folder holds no
            image (a ``FileNotFoundError``).
        InferenceInputError: An input is neither a path nor an array, or
            there is no input.
    """
    if isinstance(inputs, (str, os.PathLike, np.ndarray)):
        inputs = [inputs]
    files: List[InputType] = []
    for item in inputs:
        if isinstance(item, np.ndarray):
            files.append(item)
            continue
        if not isinstance(item, (str, os.PathLike)):
            raise InferenceInputError(
                'each input must be an image path, a folder or a BGR uint8 '
                f'array, got a {type(item).__name__}')
        path = os.fspath(item)
        if osp.isdir(path):
            found = sorted(
                osp.join(root, name) for root, _, names in os.walk(path)
                for name in names if name.lower().endswith(IMG_EXTENSIONS))
            if not found:
                raise MissingInputError(
                    f'folder {path} holds no image (searched recursively '
                    f'for {", ".join(IMG_EXTENSIONS)})')
            files.extend(found)
        elif osp.isfile(path):
            files.append(path)
        else:
            raise MissingInputError(f'input not found: {path}')
    if not files:
        raise InferenceInputError('inputs must name at least one image, got '
                                  'an empty list')
    return files


def read_image(path: str, max_pixels: Optional[float],
               setting: str = 'test_dataloader.dataset.max_pixels'
               ) -> np.ndarray:
    """Decode an image file as the datasets' ``LoadImageFromFile`` does
    (``mmcv.imread``: BGR uint8 (H, W, 3); grey and RGBA become BGR).

    The size is checked from the header first
    (:func:`~mmcma.datasets.image_check.check_image_size`), so an image of
    more than ``max_pixels`` pixels is refused before it is decoded.

    Raises:
        InferenceInputError: The file is too large, empty, unreadable or
            not a decodable image; the message names it.
    """
    try:
        check_image_size(path, max_pixels, setting)
    except ImageTooLargeError as e:
        raise InferenceInputError(str(e)) from None
    try:
        if os.path.getsize(path) == 0:
            raise file_error(path, 'is empty (0 bytes)')
        image = mmcv.imread(path)
    except OSError as e:
        raise file_error(path, f'cannot be read: {e.strerror or e}') from e
    if image is None:
        raise file_error(
            path, 'cannot be decoded: it is not an image, it is truncated, '
            'or OpenCV cannot read its format')
    return image


def check_array(image: np.ndarray, index: int) -> np.ndarray:
    """An array input as a BGR uint8 image (H, W, 3); grey (H, W) or
    (H, W, 1) arrays are repeated to three channels.

    Raises:
        InferenceInputError: Another dtype or shape, naming the input.
    """
    grey = image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1)
    if (image.dtype != np.uint8 or 0 in image.shape
            or not (grey or image.ndim == 3 and image.shape[2] == 3)):
        raise InferenceInputError(
            f'inputs[{index}] must be a BGR uint8 image array (H, W, 3) or '
            f'a grey one (H, W), got {image.dtype} {image.shape}')
    if grey:
        image = mmcv.gray2bgr(image.reshape(image.shape[:2]))
    return image


def load_input(item: InputType, index: int,
               max_pixels: Optional[float]) -> Tuple[Union[str, int],
                                                     np.ndarray]:
    """An input's source (its path, or ``index`` for an array) and its
    checked BGR uint8 image (:func:`read_image`, :func:`check_array`)."""
    if isinstance(item, np.ndarray):
        return index, check_array(item, index)
    path = os.fspath(item)
    return path, read_image(path, max_pixels)


def unique_names(files: Sequence[InputType]) -> List[str]:
    """One figure name per input, distinct even where names repeat.

    A file keeps its stem (``i`` for the i-th input when it is an array)
    unless an earlier input took it; a repeat gets the first free
    ``<stem>_<n>`` (n = 1, 2, ...) that is no input's own name either, so
    ``a/x.png``, ``b/x.png`` and ``a/x_1.png`` give ``x``, ``x_2``,
    ``x_1``. Names compare without case, as on case-insensitive disks.
    """
    stems = [Path(item).stem if isinstance(item, (str, os.PathLike)) else
             str(i) for i, item in enumerate(files)]
    taken = {s.lower() for s in stems}
    used, names = set(), []
    for stem in stems:
        name = stem
        count = 0
        while name.lower() in used:
            count += 1
            name = f'{stem}_{count}'
            if name.lower() in taken:
                name = stem  # another input's own name: keep counting
        used.add(name.lower())
        names.append(name)
    return names


def input_label(source: Union[str, int]) -> str:
    """How a message names an input: its path, or ``inputs[i]``."""
    return source if isinstance(source, str) else f'inputs[{source}]'


def transform_input(pipeline: Callable[[dict], dict], data: dict,
                    source: Union[str, int], config_name: str) -> dict:
    """``pipeline(data)``; any failure of a transform names the input and
    the config (the first line of the transform's message)."""
    try:
        return pipeline(data)
    except Exception as e:  # noqa: BLE001  any transform, named
        first = (str(e).splitlines() or [''])[0]
        raise InferenceInputError(
            f'the test pipeline of {config_name} failed on '
            f'{input_label(source)}: {type(e).__name__}: {first}') from e


def collate_batch(chunk: List[dict], config_name: str) -> dict:
    """mmengine's ``default_collate`` of transformed samples, after checking
    that their images have one size (else the message names two that do
    not, and the config whose test pipeline left them so)."""
    shapes = [tuple(d['inputs'].shape[-2:]) for d in chunk]
    for d, shape in zip(chunk, shapes):
        if shape != shapes[0]:
            first, other = (input_label(x['data_samples'].image)
                            for x in (chunk[0], d))
            raise InferenceInputError(
                f'{first} and {other} are {shapes[0][0]}x{shapes[0][1]} and '
                f'{shape[0]}x{shape[1]} after the test pipeline of '
                f'{config_name}, which does not bring images to one size: '
                'add a Resize to test_dataloader.dataset.pipeline, or use '
                'batch_size=1')
    return default_collate(chunk)


def patch_records(top, classes: Sequence[str]) -> List[dict]:
    """:class:`~mmcma.models.utils.patch_types.TopPatches` as plain dicts
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
    "pred_label_scores", "pred_scores" (N floats)[, "patches"][,
    "figure"]}]}`` (``patches`` and ``figure`` as in the inferencer's
    results, when asked for; an array input's ``image`` is its index).
    """
    keys = ('image', 'pred_labels', 'pred_classes', 'pred_label_scores',
            'patches', 'figure')
    return dict(
        classes=list(classes),
        selection=dict(selection),
        predictions=[
            dict({k: r[k] for k in keys if k in r},
                 pred_scores=[float(s) for s in r['pred_scores']])
            for r in results
        ])
