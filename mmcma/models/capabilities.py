"""What a model can show or do beyond its scores, declared by its classes.

The inferencer, the visualiser, the exporter and the tools ask
:func:`model_capabilities` instead of probing for methods: a head that can
draw its label attention inherits :class:`ShowsAttention`, a classifier
that can report image patches inherits :class:`ShowsPatches`, a model
that tracing would export wrongly sets :attr:`ExportRefusal.onnx_refusal`,
and a model that reads pre-extracted features instead of image files sets
:attr:`InputKind.input_kind`.
"""
from dataclasses import dataclass
from typing import Any, ClassVar, List, Optional, Sequence

from torch import Tensor, nn

IMAGE_INPUT = 'images'
FEATURE_INPUT = 'frame features'


class ShowsAttention:
    """Mixin of a head whose per-label attention can be drawn."""

    def get_attention(self, feats: Sequence[Any]) -> List[Tensor]:
        """Attention over positions, one (B, N, ...) tensor per scale."""
        raise NotImplementedError


class ShowsPatches:
    """Mixin of a classifier that reports scored image patches."""

    def extract_pyramid(self, inputs: Tensor, data_samples=None):
        """The features the patches are cut from, with the input geometry."""
        raise NotImplementedError

    def predict_patches(self, inputs: Tensor, data_samples=None) -> list:
        """Each image's test-time patches with their label scores."""
        raise NotImplementedError


class ExportRefusal:
    """Mixin of a model that ONNX tracing would export wrongly."""

    #: Why the export is refused (one sentence), or None.
    onnx_refusal: ClassVar[Optional[str]] = None


class InputKind:
    """Mixin of a model whose inputs are not image files."""

    #: What ``inputs`` holds: :data:`IMAGE_INPUT` or :data:`FEATURE_INPUT`.
    input_kind: ClassVar[str] = IMAGE_INPUT


@dataclass(frozen=True)
class Capabilities:
    """What a built model declares.

    Attributes:
        attention (bool): ``model.head.get_attention`` draws label attention.
        patches (bool): ``model.predict_patches`` reports scored patches.
        onnx_refusal (str, optional): Why ONNX export is refused, if it is.
        input_kind (str): :data:`IMAGE_INPUT` or :data:`FEATURE_INPUT`.
    """
    attention: bool
    patches: bool
    onnx_refusal: Optional[str]
    input_kind: str


def model_capabilities(model: nn.Module) -> Capabilities:
    """The declared capabilities of ``model`` (a classifier with a head)."""
    head = getattr(model, 'head', None)
    return Capabilities(
        attention=isinstance(head, ShowsAttention),
        patches=isinstance(model, ShowsPatches),
        onnx_refusal=(model.onnx_refusal
                      if isinstance(model, ExportRefusal) else None),
        input_kind=(model.input_kind
                    if isinstance(model, InputKind) else IMAGE_INPUT))
