"""``mmcma::path`` config references, as ``mmpretrain::path`` works.

mmengine resolves ``scope::path`` in ``_base_`` to
``<installed package>/.mim/configs/path`` for the packages it knows
(``mmengine.config.utils.MODULE2PACKAGE``). mmcma ships its configs and tools
as ``mmcma/.mim/configs`` and ``mmcma/.mim/tools`` (links to the top-level
folders in a checkout, copies in a wheel: see setup.py) and adds itself here
when imported, so an ``mmcma::`` base resolves wherever ``mmcma`` was imported
before the config is read (mmcma's tools, ``custom_imports`` cannot: bases are
read first).

mmengine finds the installed folder through the distribution's location,
which is ``site-packages`` for an editable install (PEP 660: the package stays
in the checkout), so it would look for ``site-packages/mmcma/.mim``. The
folder of the imported ``mmcma`` is the right answer for every kind of
install, and also when a checkout is put on ``PYTHONPATH``. Two mmengine
modules ask for it: ``mmengine.config.config`` (``_base_``) and
``mmengine.hub.hub`` (``get_config('mmcma::...')``, which also reads
``.mim/model-index.yml``); each imported the function by name, so each gets
the wrapper.
"""
import os.path as osp

from mmengine.config import config as mmengine_config
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.hub import hub as mmengine_hub

#: Folder of the imported ``mmcma`` package.
PACKAGE_DIR = osp.dirname(osp.abspath(__file__))


def config_root() -> str:
    """Folder that ``mmcma::path`` is relative to."""
    return osp.join(PACKAGE_DIR, '.mim', 'configs')


def register_config_scope() -> None:
    """Make mmengine resolve ``mmcma::`` config paths (idempotent)."""
    MODULE2PACKAGE.setdefault('mmcma', 'mmcma')
    for module in (mmengine_config, mmengine_hub):
        original = module.get_installed_path
        if not getattr(original, 'resolves_mmcma', False):
            module.get_installed_path = _resolving_mmcma(original)


def _resolving_mmcma(original):
    """``original`` (mmengine's ``get_installed_path``) with ``mmcma`` mapped
    to :data:`PACKAGE_DIR`."""

    def get_installed_path(package: str) -> str:
        return PACKAGE_DIR if package == 'mmcma' else original(package)

    get_installed_path.resolves_mmcma = True
    return get_installed_path
