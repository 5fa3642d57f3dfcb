"""mmcma's configs in mmpretrain's model index (``get_model``, ``list_models``).

mmpretrain's ``ModelHub`` reads only mmpretrain's own
``.mim/model-index.yml`` (``ModelHub._register_mmpretrain_models``); a plugin's
index is seen only when it is passed to the public
``ModelHub.register_model_index``. ``import mmcma`` does that once, with
``mmcma/.mim`` as the prefix of the configs' paths, so that
``mmpretrain.get_model('mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px')`` and
``mmpretrain.list_models('*scenes*')`` find mmcma's configs by name as they
find mmpretrain's. The index (one metafile per config family) is also what
``mmengine.hub.get_config('mmcma::<folder>/<config>.py')`` reads.
"""
import os.path as osp

from mmpretrain.apis import ModelHub

from .config_scope import PACKAGE_DIR

#: The index of mmcma's configs (``Import`` lists one metafile per family).
MODEL_INDEX = osp.join(PACKAGE_DIR, '.mim', 'model-index.yml')
_registered = []


def register_model_index() -> None:
    """Add mmcma's configs to mmpretrain's ``ModelHub`` (idempotent:
    ``register_model_index`` raises on names it has already seen)."""
    if _registered:
        return
    ModelHub.register_model_index(
        MODEL_INDEX, config_prefix=osp.join(PACKAGE_DIR, '.mim'))
    _registered.append(MODEL_INDEX)
