"""The ``mmcma`` registry scope: one child of each of mmpretrain's nodes.

mmcma registers its components in mmpretrain's registries. A config read
through an ``mmcma::path`` base gets ``_scope_='mmcma'`` on every dict with a
``type`` (mmengine does this for any ``scope::`` base); to build such a dict
mmengine imports ``mmcma.registry`` and looks for a node of scope ``mmcma`` in
the registry tree. These empty children are those nodes: every lookup falls
through to their mmpretrain parent, which holds mmcma's components and
mmpretrain's.
"""
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry


def _child(parent: Registry) -> Registry:
    """An empty node of scope ``mmcma`` under ``parent``.

    A lookup reads the parents' tables without importing their modules, so
    the child imports them itself: mmcma and the parent's locations.
    """
    return Registry(parent.name, parent=parent, scope='mmcma',
                    locations=['mmcma', *parent._locations])


RUNNERS = _child(mmpretrain_registry.RUNNERS)
RUNNER_CONSTRUCTORS = _child(mmpretrain_registry.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmpretrain_registry.LOOPS)
HOOKS = _child(mmpretrain_registry.HOOKS)
LOG_PROCESSORS = _child(mmpretrain_registry.LOG_PROCESSORS)
OPTIMIZERS = _child(mmpretrain_registry.OPTIMIZERS)
OPTIM_WRAPPERS = _child(mmpretrain_registry.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(
    mmpretrain_registry.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(mmpretrain_registry.PARAM_SCHEDULERS)
DATASETS = _child(mmpretrain_registry.DATASETS)
DATA_SAMPLERS = _child(mmpretrain_registry.DATA_SAMPLERS)
TRANSFORMS = _child(mmpretrain_registry.TRANSFORMS)
MODELS = _child(mmpretrain_registry.MODELS)
MODEL_WRAPPERS = _child(mmpretrain_registry.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(mmpretrain_registry.WEIGHT_INITIALIZERS)
BATCH_AUGMENTS = _child(mmpretrain_registry.BATCH_AUGMENTS)
TASK_UTILS = _child(mmpretrain_registry.TASK_UTILS)
TOKENIZER = _child(mmpretrain_registry.TOKENIZER)
METRICS = _child(mmpretrain_registry.METRICS)
EVALUATORS = _child(mmpretrain_registry.EVALUATORS)
VISUALIZERS = _child(mmpretrain_registry.VISUALIZERS)
VISBACKENDS = _child(mmpretrain_registry.VISBACKENDS)

__all__ = list(mmpretrain_registry.__all__) + ['TOKENIZER']
