"""The training set of a config, for tools that need its labels or names."""
from typing import Tuple

from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS


def build_train_dataset(cfg: Config, lazy: bool = False):
    """Build ``cfg.train_dataloader.dataset`` without its pipeline.

    Args:
        cfg (Config): A config with a ``train_dataloader``.
        lazy (bool): Build with ``lazy_init=True``: no annotation file is
            read, the metainfo is the dataset class's defaults.
    """
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    dataset_cfg['pipeline'] = []
    if lazy:
        dataset_cfg['lazy_init'] = True
    return DATASETS.build(dataset_cfg)


def train_class_names(cfg: Config) -> Tuple[Tuple[str, ...], str]:
    """The class names of the config's training set, and where they came
    from.

    The names are read from the training set. If its files are missing but
    the dataset class defines its classes (VOC's 20), those are returned,
    and the second value says so.

    Raises:
        FileNotFoundError: The data are missing and the class has no
            default names (COCO and NUS-WIDE read them from their files).
    """
    try:
        dataset = build_train_dataset(cfg)
        return tuple(dataset.metainfo['classes']), 'the training set'
    except FileNotFoundError as e:
        dataset = build_train_dataset(cfg, lazy=True)
        classes = dataset.metainfo.get('classes')
        if not classes:
            raise
        return tuple(classes), (
            f'the defaults of {type(dataset).__name__} (the training data '
            f'are not there: {e})')
