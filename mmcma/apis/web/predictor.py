"""What the web page shows for one photo, from the inferencer's results.

:class:`PagePredictor` runs :class:`~mmcma.apis.MultiLabelInferencer` on an
uploaded photo (decoded in memory, :mod:`.uploads`) and turns its result
dict into a :class:`PhotoResult`: the selected labels with their scores,
every label's score, and the figures the model can show
(:func:`~mmcma.models.capabilities.model_capabilities`): per-label attention
maps (CMA, MS-CMA) and the best object/context patches (spatial-context
network), drawn by :class:`~mmcma.visualization.AttentionVisualizer` and
encoded as PNG in memory.
"""
import logging
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from ...models.capabilities import model_capabilities
from ...models.backbones import LateralGCNBackbone
from ...models.heads import GCNClsHead
from ...visualization import AttentionVisualizer
from ..inferencer import MultiLabelInferencer
from .uploads import UploadError, read_upload

logger = logging.getLogger(__name__)

#: Longest side of the photo shown next to its labels (pixels).
THUMBNAIL_SIDE = 384


def gcn_family(model) -> Optional[str]:
    """``'KSSNet'`` or ``'ML-GCN'`` for a model whose label scores come from
    classifiers a GCN computes over the label graph (the page says so next
    to their scores), by whether its GCN also feeds the backbone through
    lateral connections; None for other models."""
    if not isinstance(model.head, GCNClsHead) or not isinstance(
            model.backbone, LateralGCNBackbone):
        return None
    return 'KSSNet' if model.backbone.stages else 'ML-GCN'


class SelectionError(ValueError):
    """A threshold or top-k the page cannot use."""


@dataclass
class PageFigure:
    """A figure for the page: ``kind`` (``'attention'``, ``'patches'``),
    a caption and the PNG bytes."""
    kind: str
    caption: str
    png: bytes


@dataclass
class PhotoResult:
    """What the page shows for one upload.

    Attributes:
        name (str): The upload's file name.
        labels (list): Selected ``(class, score)`` pairs, best first (the
            inferencer's ``pred_classes`` and ``pred_label_scores``).
        scores (list): Every ``(class, score)``, best first.
        photo (bytes): The photo as JPEG, at most :data:`THUMBNAIL_SIDE`.
        figures (list): :class:`PageFigure` items.
        error (str, optional): Why the upload was refused or failed; the
            other fields are then empty.
    """
    name: str
    labels: List[Tuple[str, float]] = field(default_factory=list)
    scores: List[Tuple[str, float]] = field(default_factory=list)
    photo: bytes = b''
    figures: List[PageFigure] = field(default_factory=list)
    error: Optional[str] = None


#: The page's label rules and their names in messages.
RULES = {'thr': 'threshold', 'topk': 'top-k'}


def parse_selection(rule: str, value: str,
                    num_classes: int) -> Dict[str, float]:
    """The page's label rule as the inferencer's keyword: ``{'thr': t}``
    (0 <= t <= 1) or ``{'topk': k}`` (1 <= k <= ``num_classes``).

    Raises:
        SelectionError: An unknown rule or a value out of range, named.
    """
    if rule not in RULES:
        raise SelectionError(f'unknown label rule {rule!r}: choose '
                             'threshold or top-k')
    try:
        number = float(value) if rule == 'thr' else int(value)
    except (TypeError, ValueError):
        number = None
    if rule == 'thr' and number is not None and 0.0 <= number <= 1.0:
        return dict(thr=number)
    if rule == 'topk' and number is not None and 1 <= number <= num_classes:
        return dict(topk=number)
    expected = ('a number from 0 to 1' if rule == 'thr' else
                f'a whole number from 1 to {num_classes}')
    raise SelectionError(f'the {RULES[rule]} must be {expected}, got '
                         f'{value!r}')


def encode_png(rgb: np.ndarray) -> bytes:
    """An RGB uint8 image as PNG bytes (no file)."""
    ok, buf = cv2.imencode('.png', np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise RuntimeError('OpenCV could not encode a figure as PNG')
    return buf.tobytes()


def thumbnail(bgr: np.ndarray, side: int = THUMBNAIL_SIDE) -> bytes:
    """The photo as JPEG bytes, its longest side at most ``side``."""
    scale = side / max(bgr.shape[:2])
    if scale < 1:
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale,
                         interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode('.jpg', bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError('OpenCV could not encode the photo as JPEG')
    return buf.tobytes()


def num_labels(inferencer: MultiLabelInferencer) -> int:
    """The model's number of labels: its head's ``num_classes``, else the
    number of class names it carries."""
    model = inferencer.model
    count = getattr(model.head, 'num_classes', None) or len(
        (getattr(model, '_dataset_meta', None) or {}).get('classes') or ())
    if not count:
        raise ValueError(f'{type(model.head).__name__} has no num_classes '
                         'and the model carries no class names: the page '
                         'cannot tell how many labels it has')
    return int(count)


class PagePredictor:
    """Classify uploads for the page with a :class:`MultiLabelInferencer`.

    One photo at a time (a lock: the model and the visualizer are shared by
    the server's threads).

    Args:
        inferencer (MultiLabelInferencer): Built on an image model.
        max_pixels (int, optional): Largest upload, width x height.
        patches (int): (patch, label) pairs drawn for spatial-context models.
    """

    def __init__(self, inferencer: MultiLabelInferencer,
                 max_pixels: Optional[int], patches: int = 5):
        self.inferencer = inferencer
        self.max_pixels = max_pixels
        self.capabilities = model_capabilities(inferencer.model)
        self.patches = patches if self.capabilities.patches else 0
        self.num_classes = num_labels(inferencer)
        self.classes = inferencer.label_names(self.num_classes)
        self.gcn = gcn_family(inferencer.model)
        self.visualizer = AttentionVisualizer(name='mmcma_web_demo')
        self._lock = threading.Lock()

    # ------------------------------------------------------------ the page
    def notes(self) -> List[str]:
        """Sentences about what the page shows for this model."""
        head = type(self.inferencer.model.head).__name__
        notes = [f'{head}, {self.num_classes} labels.']
        if self.gcn:
            notes.append(
                f'GCN head ({self.gcn}): the label scores are the image '
                'feature times label classifiers that a graph convolution '
                'network computes from the label graph.')
        if self.capabilities.attention:
            notes.append('Attention maps: where each selected label looks, '
                         'relative to a uniform attention (1 = uniform).')
        if self.capabilities.patches:
            notes.append(f'Patches: the {self.patches} best object patches '
                         '(solid) with their context patches (dashed).')
        return notes

    def default_selection(self) -> Dict[str, float]:
        """The rule the page starts with: the inferencer's, else the
        head's."""
        return self.inferencer.selection(None, None)

    # -------------------------------------------------------------- predict
    def predict(self, name: str, data: bytes,
                selection: Dict[str, float]) -> PhotoResult:
        """Check, decode and classify one upload; never raises.

        A refused upload (:class:`~.uploads.UploadError`) or any failure of
        the model gives a :class:`PhotoResult` with ``error`` set (failures
        are also logged with their traceback).
        """
        try:
            image = read_upload(data, name, self.max_pixels)
            with self._lock:
                return self._classify(name, image, selection)
        except UploadError as e:
            return PhotoResult(name, error=str(e))
        except Exception as e:  # noqa: BLE001  (the server must keep going)
            logger.exception('classifying %s failed', name)
            return PhotoResult(
                name, error=f'{name} could not be classified: '
                f'{type(e).__name__}: {e}')

    def _classify(self, name: str, image: np.ndarray,
                  selection: Dict[str, float]) -> PhotoResult:
        result = self.inferencer(
            [image], batch_size=1,
            return_attention=self.capabilities.attention,
            patches=self.patches, **selection)[0]
        scores = result['pred_scores']
        order = np.argsort(-scores, kind='stable')
        return PhotoResult(
            name=name,
            labels=list(zip(result['pred_classes'],
                            result['pred_label_scores'])),
            scores=[(self.classes[k], float(scores[k])) for k in order],
            photo=thumbnail(image),
            figures=self._figures(name, image, result))

    def _figures(self, name: str, image: np.ndarray,
                 result: dict) -> List[PageFigure]:
        """The attention grid and the patch drawing, where the model has
        them, over the image the model saw (after the test pipeline)."""
        if not (self.capabilities.attention or self.capabilities.patches):
            return []
        seen = self.model_input(image)
        figures = []
        if self.capabilities.attention:
            rgb = self.visualizer.add_attention(
                name, seen, result['attention'], result['pred_labels'],
                result['pred_scores'], self.classes)
            figures.append(PageFigure(
                'attention', 'Attention of each selected label over the '
                'image the model saw.', encode_png(rgb)))
        if self.capabilities.patches:
            found = result['patches']
            rgb = self.visualizer.add_patches(
                name, seen,
                np.array([p['box'] for p in found]).reshape(-1, 4),
                np.array([p['context_box'] for p in found]).reshape(-1, 4),
                [p['label'] for p in found], [p['score'] for p in found],
                self.classes)
            figures.append(PageFigure(
                'patches', 'Best object patches (solid) and their context '
                'patches (dashed), with label and score.', encode_png(rgb)))
        return figures

    def model_input(self, image: np.ndarray) -> np.ndarray:
        """The image the model saw: the inferencer's ``preprocess`` (the
        config's test pipeline) of ``image``, as RGB uint8 (H, W, 3)."""
        batch = next(iter(self.inferencer.preprocess([image], batch_size=1)))
        chw = batch['inputs'][0]  # BGR, as the pipeline loads it
        return np.ascontiguousarray(
            chw.permute(1, 2, 0).cpu().numpy()[..., ::-1])
