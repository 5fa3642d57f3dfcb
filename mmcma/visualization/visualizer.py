"""A visualizer that sends prediction figures to mmengine's backends."""
import itertools
from typing import Optional, Sequence, Union

import mmcv
import numpy as np
from matplotlib.figure import Figure
from mmpretrain.registry import VISUALIZERS
from mmpretrain.visualization import UniversalVisualizer

from .figures import attention_figure, figure_to_rgb, label_scores_figure
from .patches import patch_figure


@VISUALIZERS.register_module()
class AttentionVisualizer(UniversalVisualizer):
    """mmpretrain's ``UniversalVisualizer`` plus multi-label figures.

    :meth:`add_attention` and :meth:`add_label_scores` render a figure
    (:mod:`mmcma.visualization.figures`), keep it as the visualizer's image
    (``get_image``) and send it with ``add_image`` to every vis backend of
    the visualizer: ``LocalVisBackend`` writes
    ``<save_dir>/vis_data/vis_image/<name>_<step>.png``,
    ``TensorboardVisBackend`` an image summary. Use it in a config as
    ``visualizer = dict(type='AttentionVisualizer', vis_backends=[...])``.
    :meth:`add_patches` draws spatial-context patches the same way, and
    :meth:`add_datasample` picks the figure for an inferencer's sample.
    """

    def _publish(self, fig: Figure, name: str, step: int,
                 out_file: Optional[str], backends: bool = True) -> np.ndarray:
        """Render ``fig``, keep it, send it to the backends and a file."""
        image = figure_to_rgb(fig)
        self.set_image(image)
        if backends:
            self.add_image(name, image, step)
        if out_file is not None:
            mmcv.imwrite(image[..., ::-1], out_file)
        return image

    def add_attention(self,
                      name: str,
                      image: np.ndarray,
                      attention: Sequence[np.ndarray],
                      labels: Sequence[int],
                      scores: np.ndarray,
                      classes: Sequence[str],
                      per_scale: bool = False,
                      step: int = 0,
                      out_file: Optional[str] = None) -> np.ndarray:
        """Draw :func:`~mmcma.visualization.attention_figure` and send it.

        Args:
            name (str): Image name for the backends.
            image (np.ndarray): RGB uint8 (H, W, 3), the model's input.
            attention (Sequence[np.ndarray]): One (N, h, w) map per scale.
            labels (Sequence[int]): Labels to draw.
            scores (np.ndarray): Probabilities (N,).
            classes (Sequence[str]): Class names.
            per_scale (bool): One row per scale instead of their mean.
            step (int): Global step for the backends. Defaults to 0.
            out_file (str, optional): Also write the figure here (PNG).

        Returns:
            np.ndarray: The figure, RGB uint8.
        """
        fig = attention_figure(image, attention, labels, scores, classes,
                               per_scale=per_scale, title=name)
        return self._publish(fig, name, step, out_file)

    def add_label_scores(self,
                         name: str,
                         image: np.ndarray,
                         labels: Sequence[int],
                         scores: np.ndarray,
                         classes: Sequence[str],
                         thr: Optional[float] = None,
                         step: int = 0,
                         out_file: Optional[str] = None,
                         title: Optional[str] = None,
                         backends: bool = True) -> np.ndarray:
        """Draw :func:`~mmcma.visualization.label_scores_figure` (for heads
        without attention) and send it; arguments as :meth:`add_attention`,
        plus ``title`` (default: ``name``) and ``backends`` (False: only
        ``out_file``, as mmpretrain's ``visualize_cls`` does with one).
        """
        fig = label_scores_figure(image, labels, scores, classes, thr=thr,
                                  title=name if title is None else title)
        return self._publish(fig, name, step, out_file, backends)

    def add_patches(self,
                    name: str,
                    image: np.ndarray,
                    boxes: np.ndarray,
                    context_boxes: np.ndarray,
                    labels: Sequence[int],
                    scores: Sequence[float],
                    classes: Sequence[str],
                    step: int = 0,
                    out_file: Optional[str] = None) -> np.ndarray:
        """Draw :func:`~mmcma.visualization.patch_figure` (object patches
        solid, context patches dashed, a legend, each label's tag inside
        the image and clear of the others) and send it.

        Args:
            name (str): Image name for the backends (and the title).
            image (np.ndarray): RGB uint8 (H, W, 3), the model's input (the
                boxes are in its pixels).
            boxes (np.ndarray): Object boxes (k, 4), ``x0, y0, x1, y1``.
            context_boxes (np.ndarray): Their context patches (k, 4).
            labels (Sequence[int]): Label of each pair (one per label).
            scores (Sequence[float]): Score of each pair.
            classes (Sequence[str]): Class names.
            step (int): Global step for the backends.
            out_file (str, optional): Also write the figure here (PNG).

        Returns:
            np.ndarray: The figure, RGB uint8.
        """
        fig = patch_figure(image, boxes, context_boxes, labels, scores,
                           classes, title=name)
        return self._publish(fig, name, step, out_file)

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample,
                       classes: Sequence[str],
                       per_scale: bool = False,
                       thr: Optional[float] = None,
                       step: int = 0,
                       out_file: Optional[str] = None) -> np.ndarray:
        """Draw one multi-label prediction (the inferencer's samples).

        A sample with ``patches`` (spatial-context) is drawn with
        :meth:`add_patches` and one with ``attention`` with
        :meth:`add_attention`, both over its ``input_image`` (the image the
        model saw); any other with :meth:`add_label_scores` over ``image``.

        Args:
            name (str): Image name.
            image (np.ndarray): The original image, RGB uint8 (H, W, 3).
            data_sample (DataSample): ``pred_score``, ``pred_label`` and
                optionally ``patches`` (``boxes``, ``context_boxes``,
                ``labels``, ``scores``), ``attention``, ``input_image``.
            classes (Sequence[str]): Class names.
            per_scale (bool): Attention: one row per scale.
            thr (float, optional): Threshold line of the score bars.
            step (int): Global step for the backends.
            out_file (str, optional): Also write the figure here (PNG).
        """
        scores = data_sample.pred_score.float().cpu().numpy()
        labels = data_sample.pred_label.tolist()
        if 'patches' in data_sample:
            top = data_sample.patches
            return self.add_patches(
                name, data_sample.input_image, top.boxes.numpy(),
                top.context_boxes.numpy(), top.labels.tolist(),
                top.scores.tolist(), classes, step=step, out_file=out_file)
        if 'attention' in data_sample:
            return self.add_attention(
                name, data_sample.input_image, data_sample.attention, labels,
                scores, classes, per_scale=per_scale, step=step,
                out_file=out_file)
        return self.add_label_scores(name, image, labels, scores, classes,
                                     thr=thr, step=step, out_file=out_file)

#: Suffixes of the names of the visualizers built here (mmengine keeps every
#: visualizer by name; each caller gets its own).
_VISUALIZER_IDS = itertools.count()


def build_visualizer(
    visualizer: Union[dict, AttentionVisualizer, None]
) -> Optional[AttentionVisualizer]:
    """An :class:`AttentionVisualizer` from a config dict, or the one given.

    mmengine builds visualizers with ``get_instance(name, ...)``, which needs
    a ``name``: a config without one gets a unique name here.

    Raises:
        TypeError: The result is not an :class:`AttentionVisualizer`.
    """
    if isinstance(visualizer, dict):
        cfg = dict(visualizer)
        cfg.setdefault('name', f'mmcma_inferencer_{next(_VISUALIZER_IDS)}')
        visualizer = VISUALIZERS.build(cfg)
    if visualizer is not None and not isinstance(visualizer,
                                                 AttentionVisualizer):
        raise TypeError('visualizer must be an AttentionVisualizer or its '
                        f'config dict, got a {type(visualizer).__name__}')
    return visualizer
