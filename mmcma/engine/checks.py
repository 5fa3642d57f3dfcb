"""Consistency checks run once the Runner is built, before any batch.

``tools/train.py`` and ``tools/test.py`` call :func:`check_class_counts` right
after ``Runner.from_cfg``: a dataset with 12 classes, a data preprocessor that
one-hot encodes into 10 and a head that predicts 12 otherwise fail deep in the
first batch (an index error in the one-hot encoding, or a shape mismatch in
the loss) instead of with one sentence naming the three numbers.
"""
from typing import Dict, Optional

from mmengine.model import BaseModel, BaseTTAModel, is_model_wrapper
from mmengine.runner import Runner

from mmcma.io import InputOptionError

#: The loops whose datasets feed each mode of the tools.
LOOPS = dict(train=('train', 'val'), test=('test', ))


def bare_model(model: BaseModel) -> BaseModel:
    """The model inside distributed wrappers and test-time augmentation
    (``tools/test.py --tta``): the one with the backbone and head."""
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


class ClassCountError(InputOptionError):
    """Dataset, data preprocessor and head disagree on the number of classes
    (an :class:`~mmcma.io.InputOptionError`, so a ``ValueError``)."""


def class_count_problem(counts: Dict[str, Optional[int]]) -> Optional[str]:
    """One sentence on the class counts that disagree, or None.

    Args:
        counts (dict): Number of classes per named source, e.g.
            ``{'the train dataset': 12, 'model.head.num_classes': 10}``;
            None values (unknown) are left out.

    Returns:
        str | None: ``'... has 12 classes but ... is 10'``-style text listing
        every known count, or None when they all agree.
    """
    known = {name: n for name, n in counts.items() if n is not None}
    if len(set(known.values())) <= 1:
        return None
    listed = ', '.join(f'{name} = {n}' for name, n in known.items())
    return (f'the number of classes disagrees: {listed}; set '
            'data_preprocessor.num_classes and model.head.num_classes to '
            "the dataset's number of classes")


def _dataset_name(dataset) -> str:
    source = getattr(dataset, 'ann_file', '') or getattr(
        dataset, 'data_root', '')
    kind = type(dataset).__name__
    return f'{kind} ({source})' if source else kind


def _dataset_classes(dataset) -> Optional[int]:
    """Number of classes in the dataset's metainfo (annotations are read)."""
    if hasattr(dataset, 'full_init'):
        dataset.full_init()  # lazy datasets learn their classes here
    classes = getattr(dataset, 'metainfo', {}).get('classes')
    return None if classes is None else len(classes)


def collect_class_counts(runner: Runner, mode: str) -> Dict[str, int]:
    """Class counts of the datasets of ``mode``, the preprocessor and head.

    Builds the loops of ``mode`` (``'train'``: train and val, ``'test'``:
    test) as ``runner.train()`` / ``runner.test()`` would; they are built
    once and reused.

    Args:
        runner (Runner): A built runner.
        mode (str): ``'train'`` or ``'test'``.

    Returns:
        dict: Number of classes (or None when unknown) by source name.
    """
    if mode not in LOOPS:
        raise ValueError(f'mode must be one of {sorted(LOOPS)}, got {mode!r}')
    counts = {}
    for loop_name in LOOPS[mode]:
        loop = getattr(runner, f'{loop_name}_loop')  # builds it
        if loop is None:
            continue  # not configured (e.g. --no-validate)
        dataset = loop.dataloader.dataset
        counts[f'the {loop_name} dataset {_dataset_name(dataset)}'] = \
            _dataset_classes(dataset)
    model = bare_model(runner.model)
    counts['the data preprocessor num_classes'] = getattr(
        getattr(model, 'data_preprocessor', None), 'num_classes', None)
    counts['model.head.num_classes'] = getattr(
        getattr(model, 'head', None), 'num_classes', None)
    return counts


def check_class_counts(runner: Runner, mode: str = 'train') -> None:
    """Raise :class:`ClassCountError` if the class counts of ``mode`` differ.

    Args:
        runner (Runner): A built runner.
        mode (str): ``'train'`` (train and val datasets) or ``'test'``.
    """
    problem = class_count_problem(collect_class_counts(runner, mode))
    if problem:
        raise ClassCountError(problem[0].upper() + problem[1:] + '.')
