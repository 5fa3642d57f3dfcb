"""Writing plain ``.npz`` files atomically (label states, knowledge graphs)."""
import os
import os.path as osp
import tempfile

import numpy as np


def save_npz_atomic(path: str, **arrays: np.ndarray) -> None:
    """``np.savez(path, **arrays)`` through a temporary file in the same
    folder, renamed when complete: a reader never sees half a file, and the
    file gets the mode of a new file (``mkstemp`` would leave it 0600)."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix='.npz')
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
