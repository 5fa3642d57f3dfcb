"""Patches the pinned stack needs, each with its reason and version.

Imported once by ``mmcma/__init__.py``.

Checkpoints (torch 2.14, mmengine 0.10.7, numpy 2.3): mmengine's checkpoints
hold more than tensors (its message hub keeps ``HistoryBuffer`` objects with
numpy arrays and scalars), so torch's ``weights_only=True`` default refuses
them, and mmengine's URL loader (``torchvision://``, ``open-mmlab://``,
``https://``) still unpickles with ``weights_only=False``, which can run any
code the file names. mmcma re-registers both loaders to read with
``weights_only=True`` and an allow-list of exactly the types such checkpoints
contain (:data:`SAFE_GLOBALS`). Other files are refused unless the user opts
in with ``MMCMA_TRUST_CHECKPOINTS=1`` (the tools' ``--trust-checkpoint``).

Logs (mmcv-lite 2.2, mmengine 0.10.7, setuptools 80.9): three messages on
every run tell the user nothing they can act on, and are silenced here
(:func:`quiet_logs`).
"""
import os
import os.path as osp
import pickle
import re
import warnings
from typing import Any, Callable

import torch
from mmengine.hooks import checkpoint_hook
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from numpy import dtype, ndarray, typecodes

from .io.errors import InputFileError

try:
    from numpy._core import multiarray
except ImportError:  # numpy < 2
    from numpy.core import multiarray

#: Set to ``1`` to unpickle checkpoints with ``weights_only=False``.
TRUST_ENV = 'MMCMA_TRUST_CHECKPOINTS'

#: The statistics methods mmengine registers on ``HistoryBuffer``.
_HISTORY_STATISTICS = frozenset({'min', 'max', 'current', 'mean'})


class CheckpointError(InputFileError, RuntimeError):
    """A checkpoint that cannot be loaded: unsafe, corrupt or not fitting
    (an :class:`~mmcma.io.InputFileError`, and a ``RuntimeError`` as
    before)."""


def _history_statistic(obj: Any, name: str) -> Callable:
    """The only ``getattr`` mmengine checkpoints pickle.

    ``HistoryBuffer._statistics_methods`` holds ``HistoryBuffer.min`` etc.;
    pickle writes each as ``getattr(HistoryBuffer, 'min')``. Allowing the
    builtin ``getattr`` would let a file fetch any attribute of any allowed
    object, so this stand-in serves those four and nothing else.
    """
    if obj is not HistoryBuffer or name not in _HISTORY_STATISTICS:
        owner = getattr(obj, '__qualname__', type(obj).__qualname__)
        raise pickle.UnpicklingError('Unsupported global: GLOBAL '
                                     f'builtins.getattr({owner},{name!r})')
    return getattr(HistoryBuffer, name)


def _numpy_globals(module: str) -> list:
    """Array and scalar rebuilders under their pickled path ``module``."""
    return [(multiarray._reconstruct, f'{module}._reconstruct'),
            (multiarray.scalar, f'{module}.scalar')]


#: What mmengine 0.10.7 checkpoints contain beyond torch's defaults, found by
#: ``torch.serialization.get_unsafe_globals_in_checkpoint`` and loading a
#: checkpoint of ``configs/demo/mscma_r18-tiny_24e_scenes-64.py``: the message
#: hub's ``HistoryBuffer`` with its float64 arrays and numpy scalars. numpy
#: 1.x pickles its rebuilders as ``numpy.core.multiarray.*``, numpy 2.x as
#: ``numpy._core.multiarray.*``: both names map to the installed functions.
#: numpy 2 sets the state of each dtype instance, whose class (e.g.
#: ``numpy.dtypes.Float64DType``) must then be allowed: all boolean, integer
#: and floating dtypes are (no object, string or void dtype).
SAFE_GLOBALS = [
    HistoryBuffer,
    (_history_statistic, 'builtins.getattr'),
    (ndarray, 'numpy.ndarray'),
    (dtype, 'numpy.dtype'),
    *_numpy_globals('numpy.core.multiarray'),
    *_numpy_globals('numpy._core.multiarray'),
    *dict.fromkeys(
        type(dtype(code))
        for code in '?' + typecodes['AllInteger'] + typecodes['AllFloat']),
]


def trust_checkpoints() -> bool:
    """Whether the user opted in to unpickling checkpoints fully."""
    return os.environ.get(TRUST_ENV, '') == '1'


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()),
                'the file ends early')


def safe_load(name: str, read: Callable[[bool], Any]) -> Any:
    """Call ``read(weights_only)`` safely; turn failures into one sentence.

    Args:
        name (str): The file or URL, for messages.
        read (callable): Loads ``name`` with ``torch.load``'s
            ``weights_only`` set to its argument.

    Returns:
        The loaded object.

    Raises:
        CheckpointError: ``name`` names a type outside :data:`SAFE_GLOBALS`
            (and the user did not opt in), or is not a readable checkpoint.
    """
    try:
        if trust_checkpoints():
            return read(False)
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return read(True)
    except pickle.UnpicklingError as e:
        found = re.search(r'Unsupported global: GLOBAL (\S+)|'
                          r'unrecognized function (\S+)|'
                          r"add_safe_globals`, but got <class '([^']+)'>",
                          str(e))
        if found is None:
            detail = _first_line(str(e).split('WeightsUnpickler error:')[-1])
            raise CheckpointError(
                f'cannot read checkpoint {name}: it is not a PyTorch '
                f'checkpoint or it is corrupt ({detail})') from None
        raise CheckpointError(
            f'refused to load checkpoint {name}: it asks to unpickle '
            f'{next(g for g in found.groups() if g)}, which could run code; '
            f'if you trust this file, set {TRUST_ENV}=1 (or pass '
            '--trust-checkpoint to the tools)') from None
    except (RuntimeError, EOFError, ValueError) as e:
        raise CheckpointError(
            f'cannot read checkpoint {name}: it is truncated or corrupt '
            f'({_first_line(str(e))})') from None


def load_local_checkpoint(filename: str, map_location=None) -> Any:
    """Load a local checkpoint with :func:`safe_load` (mmengine's loader).

    Args:
        filename (str): Path of the checkpoint.
        map_location: Same as :func:`torch.load`.

    Returns:
        The loaded checkpoint, usually a dict with ``state_dict``.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    return safe_load(filename, lambda weights_only: torch.load(
        filename, map_location=map_location, weights_only=weights_only))


def _load_url(url: str, model_dir=None, map_location=None, progress=True,
              **kwargs) -> Any:
    """``torch.hub.load_state_dict_from_url`` through :func:`safe_load`.

    mmengine's ``load_from_http`` (behind ``http(s)://``, ``torchvision://``
    and ``open-mmlab://``) calls it with torch.hub's default
    ``weights_only=False``.
    """
    return safe_load(url, lambda weights_only: torch.hub.
                     load_state_dict_from_url(
                         url, model_dir=model_dir, map_location=map_location,
                         progress=progress, weights_only=weights_only,
                         **kwargs))


class _UnusedFileClient:
    """``FileClient`` as ``CheckpointHook`` and ``save_checkpoint`` see it.

    Both build a ``FileClient`` even when ``file_client_args`` is None, where
    they never use it (``CheckpointHook``'s own comment says so), and its
    constructor logs two deprecation warnings. Without arguments no client
    is built; with arguments mmengine's is.
    """

    @staticmethod
    def infer_client(file_client_args=None, uri=None):
        if file_client_args is None:
            return None
        return _FILE_CLIENT.infer_client(file_client_args, uri)


_FILE_CLIENT = checkpoint_hook.FileClient


def quiet_logs() -> None:
    """Silence the three messages no user can act on.

    - mmcv-lite has no compiled ops; importing ``mmcv.cnn`` warns that
      ``MultiScaleDeformableAttention`` (a detection op mmcma never uses) is
      missing.
    - ``CheckpointHook`` and ``save_checkpoint`` log that ``FileClient`` and
      ``HardDiskBackend`` are deprecated, about a client they do not use.
    - setuptools 80 warns that ``pkg_resources`` is deprecated each time
      mmengine 0.10.7 imports or reloads it, which it does to locate the
      package of every ``mmpretrain::`` / ``mmcma::`` config base and in
      ``mmengine.hub`` (several times per run). mmengine has no other way;
      the pin ``setuptools<81`` (which still has ``pkg_resources``) is the
      user's part, and is in requirements.txt.
    """
    warnings.filterwarnings(
        'ignore', message='Fail to import ``MultiScaleDeformableAttention``',
        category=UserWarning)
    warnings.filterwarnings(
        'ignore', message='pkg_resources is deprecated as an API',
        category=UserWarning)
    checkpoint_hook.FileClient = _UnusedFileClient
    mmengine_checkpoint.FileClient = _UnusedFileClient


def apply_patches() -> None:
    """Install the safe checkpoint loaders (mmengine 0.10.x), quiet logs."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
    mmengine_checkpoint.load_url = _load_url
    quiet_logs()


apply_patches()
