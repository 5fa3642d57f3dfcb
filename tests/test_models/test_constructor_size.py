"""No registered mmcma class takes more than ten constructor arguments:
larger parts take their sub-parts as config dicts (docs/architecture.md)."""
import inspect

from mmpretrain.registry import MODELS, TASK_UTILS

import mmcma  # noqa: F401  (registers everything)

MAX_ARGS = 10


def constructor_args(cls) -> list:
    """Names of ``cls.__init__``'s parameters, ``self`` and ``*args`` /
    ``**kwargs`` left out."""
    return [
        p.name for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != 'self' and p.kind not in (p.VAR_POSITIONAL,
                                               p.VAR_KEYWORD)
    ]


def mmcma_classes():
    for registry in (MODELS, TASK_UTILS):
        for name, cls in registry.module_dict.items():
            if cls.__module__.startswith('mmcma.'):
                yield f'{registry.name}:{name}', cls


def test_constructor_args_counted():
    class Small:
        def __init__(self, a, b=1, *args, c=2, **kwargs):
            pass
    assert constructor_args(Small) == ['a', 'b', 'c']


def test_no_registered_class_takes_more_than_ten_arguments():
    found = dict(mmcma_classes())
    # The spatial-context network's parts are among them.
    for name in ('model:SpatialContextHead', 'model:RPNPatchGenerator',
                 'model:PatchRoIExtractor', 'model:PatchBranches',
                 'task util:MaxIoUAssigner'):
        assert name in found, sorted(found)
    too_big = {name: len(constructor_args(cls))
               for name, cls in found.items()
               if len(constructor_args(cls)) > MAX_ARGS}
    assert not too_big, (f'constructors over {MAX_ARGS} arguments (group '
                         f'them into config dicts): {too_big}')
