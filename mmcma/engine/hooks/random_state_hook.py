"""Save and restore the global random generators with checkpoints."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

#: Key of the random state in the checkpoint.
KEY = 'random_state'


def get_random_state() -> dict:
    """The state of Python's, NumPy's and torch's global generators.

    Stored as tensors, ints and floats only, so that checkpoints stay
    loadable with ``torch.load(weights_only=True)``.
    """
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, py_gauss = random.getstate()
    state = dict(
        numpy=dict(name=name, keys=torch.from_numpy(keys.astype(np.int64)),
                   pos=int(pos), has_gauss=int(has_gauss),
                   gauss=float(gauss)),
        python=dict(version=version, internal=torch.tensor(internal),
                    gauss=py_gauss),
        torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict) -> None:
    """Restore what :func:`get_random_state` returned."""
    numpy = state['numpy']
    np.random.set_state(
        (numpy['name'], numpy['keys'].numpy().astype(np.uint32),
         numpy['pos'], numpy['has_gauss'], numpy['gauss']))
    python = state['python']
    random.setstate((python['version'],
                     tuple(python['internal'].tolist()), python['gauss']))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Make resumed training continue the random streams exactly.

    mmengine checkpoints keep the seed, not the generators' positions: a run
    resumed after epoch k restarts NumPy's global generator (used by the
    random flips and crops of the data pipeline), Python's and torch's from
    the seed, so it sees other augmentations than the uninterrupted run.
    This hook saves the three global generators in every checkpoint and
    restores them when training resumes (after mmengine has re-seeded).
    With ``num_workers = 0`` a resumed run then ends with the same weights as
    an uninterrupted one (``tests/test_resume.py``); dataloader workers keep
    generators of their own, seeded per worker by mmengine.
    """
    priority = 'VERY_LOW'

    def __init__(self):
        self._loaded: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[KEY] = get_random_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = checkpoint.get(KEY)

    def before_train(self, runner) -> None:
        if self._loaded is not None and getattr(runner, '_resume', False):
            set_random_state(self._loaded)
        self._loaded = None
