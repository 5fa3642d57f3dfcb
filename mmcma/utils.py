"""``register_all_modules``, the hook ``mmengine.hub.get_model`` calls.

``mmengine.hub.get_model('mmcma::<folder>/<config>.py')`` builds the model in
the ``mmcma`` scope after calling ``<package>.utils.register_all_modules()``,
as mmpretrain has it (``mmpretrain.utils.register_all_modules``). Importing
this module runs ``mmcma/__init__.py`` first, which registers every mmcma
component; mmpretrain's modules are registered here, since mmcma's configs
use them.
"""
from mmpretrain.utils import register_all_modules as _register_mmpretrain


def register_all_modules(init_default_scope: bool = False) -> None:
    """Register mmpretrain's components (mmcma's are registered by the
    import of this module's package).

    Args:
        init_default_scope (bool): Also make ``mmpretrain`` the default
            scope (mmcma registers into mmpretrain's registries). Defaults to
            False: ``mmengine.hub.get_model`` sets the ``mmcma`` scope itself.
    """
    _register_mmpretrain(init_default_scope=init_default_scope)
