"""Every transform of a config's pipelines checked by name before a run.

mmengine builds a pipeline step with ``TRANSFORMS.build(dict(type=...,
**options))``: an option the step does not take surfaces as Python's
``TypeError: __init__() got an unexpected keyword argument``, when the
dataloader first builds its dataset (in a worker, for the validation set
after a whole epoch). :func:`check_pipelines` checks each step's options
against its class's signature when the config is loaded
(:func:`mmcma.engine.cli.load_config`), and names the config key.
"""
from typing import Iterator, Tuple

from mmengine.config import Config
from mmpretrain.registry import TRANSFORMS

from mmcma.io import InputOptionError, check_call_options

#: Config keys whose value holds pipelines.
ROOTS = ('train_dataloader', 'val_dataloader', 'test_dataloader',
         'train_pipeline', 'val_pipeline', 'test_pipeline', 'tta_pipeline')


def _steps(value, where: str) -> Iterator[Tuple[str, dict]]:
    """(config key, step dict) of every transform under ``value``: the
    items of each ``pipeline`` list and of the ``transforms`` lists of
    wrappers (``RandomChoice``, ``TestTimeAug``), at any depth."""
    if isinstance(value, dict):
        if isinstance(value.get('type'), str) and where.endswith(']'):
            yield where, value
        for key, item in value.items():
            yield from _steps(item, f'{where}.{key}')
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _steps(item, f'{where}[{i}]')


def _is_pipeline_key(where: str) -> bool:
    parts = where.replace('[', '.[').split('.')
    names = [p for p in parts if not p.startswith('[')]
    return any(n in ('pipeline', 'transforms') or n in ROOTS[3:]
               for n in names[-1:]) or where in ROOTS[3:]


def check_pipelines(cfg: Config) -> None:
    """Check the type and option names of every pipeline step of ``cfg``.

    Raises:
        InputOptionError: A step of unknown type, an unknown option or a
            missing required one, naming the config key (e.g.
            ``train_dataloader.dataset.pipeline[2]``) and the valid
            options.
    """
    for root in ROOTS:
        for where, step in _steps(cfg.get(root), root):
            container = where[:where.rindex('[')]
            if not _is_pipeline_key(container):
                continue
            kind = step['type']
            cls = TRANSFORMS.get(kind)
            if cls is None:
                raise InputOptionError(
                    f'{where}: unknown transform type {kind!r} (not in '
                    "mmpretrain's or mmcma's transforms; is it spelt right, "
                    'or its package missing from custom_imports?)')
            options = {k: v for k, v in step.items() if k != 'type'}
            check_call_options(cls, options, f'{where} ({kind})')
