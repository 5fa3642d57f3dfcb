"""Export a multi-label image model to ONNX: images in, probabilities out.

The graph takes the normalised image batch that the model's data
preprocessor would give (``image``: float32 (B, 3, H, W) in the model's
channel order, RGB for ``to_rgb=True``, ``(pixel - mean) / std``) and returns
``probabilities`` (B, N): the sigmoid of the head's logits (every head
returns logits). The batch size is dynamic; H and W are the
config's test size. Label state (ASGE embeddings, graphs, frequencies) is
traced as constants of the graph. The metadata (``metadata_props``) say how
to prepare the input and read the output: ``classes`` (JSON list), ``thr`` or
``topk``, ``input_size`` (``[H, W]``), ``mean``, ``std``, ``channel_order``,
``input``, ``output``, ``head``.

It uses torch's TorchScript-based exporter (``torch.onnx.export(...,
dynamo=False)``): the default ``dynamo=True`` path needs ``onnxscript`` (not in
our pins), and ``torch.export`` cannot trace the label-state check of
:class:`~mmcma.models.LabelStateMixin` (a Python ``bool`` of a buffer, the
buffer's ``data_ptr``), which tracing evaluates once, as it should.
"""
import json
import os
import os.path as osp
import warnings
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from torch import Tensor, nn

from ..io import InputOptionError
from ..models.capabilities import model_capabilities
from ..models.utils.label_rule import head_label_rule
from .model import check_multilabel, class_names

#: ONNX opset of the export (onnxruntime 1.31 runs up to 23).
OPSET = 17
#: Largest input side accepted (the trace runs a batch of two at this size).
MAX_SIDE = 8192


class ExportRefusedError(InputOptionError, NotImplementedError):
    """A model whose class refuses ONNX export (``onnx_refusal``); also a
    ``NotImplementedError``, as before."""


def check_input_size(input_size: Sequence[int]) -> Tuple[int, int]:
    """``(H, W)`` as ints, each in ``[1, MAX_SIDE]``.

    Raises:
        InputOptionError: naming the size and what is expected.
    """
    size = tuple(input_size)
    if len(size) != 2 or not all(
            isinstance(v, int) and not isinstance(v, bool)
            and 1 <= v <= MAX_SIDE for v in size):
        raise InputOptionError(
            f'input size {size!r}: expected two whole numbers H W in '
            f'[1, {MAX_SIDE}]')
    return size


class ProbabilityModel(nn.Module):
    """``model.extract_feat`` + head + sigmoid.

    Args:
        model (BaseModel): An ``ImageClassifier`` with a multi-label head.
    """

    def __init__(self, model: BaseModel):
        super().__init__()
        check_multilabel(model)
        # A model that tracing would export wrongly says why (its class's
        # ``onnx_refusal``): refuse it instead of writing a graph that is
        # right for the example batch only.
        reason = model_capabilities(model).onnx_refusal
        if reason:
            raise ExportRefusedError(
                f'ONNX export of {type(model).__name__} is not supported: '
                f'{reason}')
        self.model = model

    def forward(self, image: Tensor) -> Tensor:
        """Probabilities (B, N) of a normalised batch (B, 3, H, W)."""
        return self.model.head(self.model.extract_feat(image)).sigmoid()


def pipeline_input_size(cfg: Config) -> Optional[Tuple[int, int]]:
    """(H, W) of the config's test pipeline output, if it is fixed.

    The last ``CenterCrop`` (``crop_size``) or ``Resize`` with a fixed
    ``scale`` (mmcv's ``(w, h)``, or one side for a square) decides;
    ``ResizeEdge`` or no resize leaves the size to the image (None).
    """
    size = None
    for t in cfg.test_dataloader.dataset.pipeline:
        kind = t.get('type')
        if kind == 'CenterCrop':
            crop = t['crop_size']
            size = (crop, crop) if isinstance(crop, int) else (crop[1],
                                                              crop[0])
        elif kind == 'Resize' and t.get('scale') is not None \
                and not t.get('keep_ratio', False):
            scale = t['scale']
            size = (scale, scale) if isinstance(scale, int) else (scale[1],
                                                                  scale[0])
        elif kind in ('ResizeEdge', 'Resize', 'RandomResizedCrop'):
            size = None
    return size


def export_metadata(model: BaseModel, num_classes: int,
                    input_size: Sequence[int],
                    selection: Dict[str, float]) -> Dict[str, str]:
    """The ``metadata_props`` of the exported model (all strings).

    Args:
        model (BaseModel): The exported model (``_dataset_meta`` for the
            class names, its data preprocessor for mean and std).
        num_classes (int): Outputs N.
        input_size (Sequence[int]): (H, W).
        selection (dict): ``{'thr': t}`` or ``{'topk': k}``.
    """
    pre = model.data_preprocessor
    mean = getattr(pre, 'mean', None)
    std = getattr(pre, 'std', None)
    # ClsDataPreprocessor(to_rgb=True) turns the loaded BGR images into RGB.
    order = 'RGB' if getattr(pre, 'to_rgb', False) else 'BGR'
    meta = dict(
        classes=json.dumps(class_names(model, num_classes)),
        input_size=json.dumps([int(s) for s in input_size]),
        mean=json.dumps(None if mean is None else mean.flatten().tolist()),
        std=json.dumps(None if std is None else std.flatten().tolist()),
        channel_order=order,
        input=f'image: float32 (batch, 3, H, W), ({order} pixel - mean) / '
        'std',
        output='probabilities: float32 (batch, num_classes) in [0, 1], one '
        'per class',
        head=type(model.head).__name__,
    )
    meta.update({k: json.dumps(v) for k, v in selection.items()})
    return meta


def export_onnx(model: BaseModel,
                out_file: str,
                input_size: Sequence[int],
                selection: Optional[Dict[str, float]] = None,
                opset: int = OPSET) -> Dict[str, str]:
    """Write ``model`` as an ONNX file with a dynamic batch and metadata.

    Args:
        model (BaseModel): An ``ImageClassifier`` (eval mode) with a
            multi-label head and filled label state (a loaded checkpoint).
        out_file (str): Output ``.onnx`` path.
        input_size (Sequence[int]): (H, W) of the input.
        selection (dict, optional): ``{'thr': t}`` or ``{'topk': k}`` for
            the metadata. Defaults to the head's rule.
        opset (int): ONNX opset. Defaults to :data:`OPSET`.

    Returns:
        dict: The metadata written.

    Raises:
        ExportRefusedError: The model's class refuses export.
        InputOptionError: An input size out of range, or one the model
            cannot run on (too small for its strides), naming it.

    Nothing is written (no file, no new folder) when it raises.
    """
    import onnx  # noqa: F401  (optional: pip install -e .[export]; fail early)

    wrapper = ProbabilityModel(model).eval()
    height, width = check_input_size(input_size)
    dummy = torch.zeros(2, 3, height, width,
                        device=next(model.parameters()).device)
    try:
        with torch.no_grad():
            num_classes = wrapper(dummy).shape[1]
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ''
        raise InputOptionError(
            f'input size {height} x {width}: the model cannot run on it '
            f'({first}); give a larger --input-size, such as the test '
            'pipeline\'s') from e
    selection = selection or head_label_rule(model.head)
    folder = osp.dirname(osp.abspath(out_file))
    new_folder = not osp.isdir(folder)
    os.makedirs(folder, exist_ok=True)
    try:
        return _write_onnx(wrapper, dummy, out_file, opset,
                           export_metadata(model, num_classes,
                                           (height, width), selection))
    except BaseException:
        if osp.isfile(out_file):
            os.remove(out_file)
        if new_folder and not os.listdir(folder):
            os.rmdir(folder)
        raise


def _write_onnx(wrapper: nn.Module, dummy: Tensor, out_file: str,
                opset: int, meta: Dict[str, str]) -> Dict[str, str]:
    """Trace ``wrapper`` on ``dummy`` into ``out_file`` with ``meta``."""
    import onnx
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of dynamo=True
        # (see the module docstring); tracing warns about the Python bools
        # of the label-state flags, which are constants here.
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(
            wrapper, (dummy, ),
            out_file,
            dynamo=False,
            input_names=['image'],
            output_names=['probabilities'],
            dynamic_axes={'image': {0: 'batch'},
                          'probabilities': {0: 'batch'}},
            opset_version=opset)
    proto = onnx.load(out_file)
    onnx.helper.set_model_props(proto, meta)
    onnx.checker.check_model(proto)
    onnx.save(proto, out_file)
    return meta
