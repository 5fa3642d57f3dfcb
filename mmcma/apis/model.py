"""Build a model from a config and load a checkpoint into it, strictly."""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import load_checkpoint
from mmpretrain.apis import get_model
from mmpretrain.models.heads import MultiLabelClsHead

from ..compat import CheckpointError
from ..models.capabilities import IMAGE_INPUT, model_capabilities
from .errors import InferenceInputError, InferenceTypeError, MissingInputError


def config_classes(cfg: Config) -> Optional[List[str]]:
    """Class names the config's test (or train) dataset names, if any.

    ``metainfo=dict(classes=...)`` or ``classes=...`` on the dataset, as
    mmpretrain's datasets take them; datasets that read the names from
    their annotation files (COCO) name none here.
    """
    for split in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = cfg.get(split, {}).get('dataset', {})
        classes = (dataset.get('metainfo') or {}).get('classes') \
            or dataset.get('classes')
        if isinstance(classes, (list, tuple)) and classes:
            return [str(c) for c in classes]
    return None


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None,
               check: Optional[Callable[[BaseModel], None]] = None
               ) -> BaseModel:
    """Build the config's model, load ``checkpoint`` strictly, eval mode.

    mmpretrain's ``get_model(cfg, pretrained=ckpt)`` loads non-strictly (a
    checkpoint of another model loads with a warning and random weights);
    here every parameter and buffer must match, or it raises.

    The class names end up in ``model._dataset_meta['classes']``, from the
    first of: the checkpoint's ``meta.dataset_meta`` (written by training),
    the config's dataset ``metainfo``/``classes``, the dataset class's
    ``METAINFO``; ``None`` if none has them.

    Args:
        config (str | Config): Config file or object.
        checkpoint (str, optional): Checkpoint path or URL. Without it the
            weights are the config's initialisation (label state unfilled).
        device (str | torch.device): Device. Defaults to ``'cpu'``.
        cfg_options (dict, optional): Overrides merged into the config.
        check (callable, optional): Called with the built model before the
            checkpoint loads (e.g. :func:`check_servable`): a model the
            caller cannot use is refused before a long load or a checkpoint
            mismatch.

    Returns:
        BaseModel: The model, with ``_config`` and ``_dataset_meta`` set
        (as ``get_model`` sets them).

    Raises:
        MissingInputError: The config file or a local checkpoint path does
            not exist (a ``FileNotFoundError``).
        CheckpointError: The checkpoint's tensors do not fit the model
            (missing, unexpected or differently shaped), naming them; or
            the file is unsafe or unreadable (:mod:`mmcma.compat`).
    """
    if not isinstance(config, Config) and not osp.isfile(config):
        raise MissingInputError(f'config file not found: {config}')
    cfg = (config.copy() if isinstance(config, Config) else
           Config.fromfile(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = get_model(cfg, pretrained=False)
    if check is not None:
        check(model)
    meta = dict(getattr(model, '_dataset_meta', None) or {})
    if checkpoint is not None:
        if '://' not in checkpoint and not osp.isfile(checkpoint):
            raise MissingInputError(f'checkpoint not found: {checkpoint}')
        try:
            loaded = load_checkpoint(model, checkpoint, map_location='cpu',
                                     strict=True)
        except CheckpointError:
            raise
        except RuntimeError as e:  # mmengine's strict-loading mismatch
            raise CheckpointError(
                f'checkpoint {checkpoint} does not fit the model of '
                f'{cfg.filename or "the config"}:\n{e}') from None
        saved = loaded.get('meta', {}).get('dataset_meta') or {}
        if saved.get('classes'):
            meta = dict(saved)
    if not meta.get('classes') and config_classes(cfg):
        meta['classes'] = config_classes(cfg)
    model._dataset_meta = meta
    return model.to(device).eval()


def class_names(model: BaseModel, num_classes: int,
                classes: Optional[Sequence[str]] = None) -> List[str]:
    """Names of the model's ``num_classes`` classes: ``classes``, else the
    model's ``dataset_meta``, else ``str(k)``.

    Raises:
        InferenceInputError: The names are not one per class.
    """
    names = classes or (getattr(model, '_dataset_meta', None)
                        or {}).get('classes')
    if not names:
        return [str(k) for k in range(num_classes)]
    if len(names) != num_classes:
        raise InferenceInputError(
            f'classes must be {num_classes} names (one per label of the '
            f'model), got {len(names)}')
    return [str(n) for n in names]


def check_multilabel(model: BaseModel) -> None:
    """Raise a ``TypeError`` unless the model has a multi-label head."""
    head = getattr(model, 'head', None)
    if not isinstance(head, MultiLabelClsHead):
        raise InferenceTypeError(
            'expected a model with a multi-label head (a MultiLabelClsHead: '
            'CMAHead, MSCMAHead, MultiLabelLinearClsHead, CSRAClsHead, ...), '
            f'got {type(head).__name__}')


def check_servable(model: BaseModel) -> None:
    """Raise :class:`InferenceTypeError` unless the model is a multi-label
    image model (not one that reads frame features)."""
    kind = model_capabilities(model).input_kind
    if kind != IMAGE_INPUT:
        config = getattr(model, '_config', None)
        raise InferenceTypeError(
            f'{type(model).__name__} of {getattr(config, "filename", None)} '
            f'reads {kind}, not {IMAGE_INPUT}: the inferencer serves image '
            'models (evaluate video models with tools/test.py, draw them '
            'with tools/visualize_frame_attention.py)')
    check_multilabel(model)
