"""Patches the pinned stack needs, each with its reason and version.

Imported once by ``mmcma/__init__.py``.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader


def _load_local_checkpoint(filename: str, map_location=None):
    """Load a local mmengine checkpoint with ``weights_only=False``.

    Why: torch >= 2.6 defaults ``torch.load`` to ``weights_only=True``, but the
    checkpoints mmengine 0.10.7 writes hold its message hub (``HistoryBuffer``)
    and numpy objects, so ``tools/test.py CKPT`` and ``--resume`` fail with
    ``Unsupported global: mmengine.logging.history_buffer.HistoryBuffer``.
    Only load checkpoints you trust: unpickling can run code.

    Args:
        filename (str): Local checkpoint path.
        map_location: Same as :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def apply_patches() -> None:
    """Register the checkpoint loader for local paths (mmengine 0.10.x)."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=_load_local_checkpoint, force=True)


apply_patches()
