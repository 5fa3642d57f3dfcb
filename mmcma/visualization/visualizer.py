"""A visualizer that sends prediction figures to mmengine's backends."""
import math
from typing import Optional, Sequence

import mmcv
import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from mmpretrain.registry import VISUALIZERS
from mmpretrain.visualization import UniversalVisualizer

from .figures import attention_figure, figure_to_rgb, label_scores_figure


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
    :meth:`add_patches` draws boxes on the image with mmengine's own
    ``draw_bboxes`` and ``draw_texts``.
    """

    #: Colours of the labels in :meth:`add_patches` (matplotlib's tab10).
    PATCH_COLOURS = colormaps['tab10'].colors

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
                    min_side: int = 256,
                    step: int = 0,
                    out_file: Optional[str] = None) -> np.ndarray:
        """Draw object patches (solid) and their context patches (dashed),
        each pair in its label's colour and named ``"<class> <score>"``,
        then send the image to the backends (and ``out_file``).

        The image is enlarged by an integer factor (nearest neighbour) until
        its shorter side is at least ``min_side``, so that the names fit on
        small inputs; the boxes are scaled with it.

        Args:
            name (str): Image name for the backends.
            image (np.ndarray): RGB uint8 (H, W, 3), the model's input (the
                boxes are in its pixels).
            boxes (np.ndarray): Object boxes (k, 4), ``x0, y0, x1, y1``.
            context_boxes (np.ndarray): Their context patches (k, 4).
            labels (Sequence[int]): Label of each pair.
            scores (Sequence[float]): Score of each pair.
            classes (Sequence[str]): Class names.
            min_side (int): Shorter side of the drawing, at least.
            step (int): Global step for the backends.
            out_file (str, optional): Also write the drawing here (PNG).

        Returns:
            np.ndarray: The drawing, RGB uint8.
        """
        factor = max(1, math.ceil(min_side / min(image.shape[:2])))
        drawing = np.ascontiguousarray(
            image.repeat(factor, axis=0).repeat(factor, axis=1))
        self.set_image(drawing)
        labels = [int(k) for k in labels]
        if labels:
            palette = self.PATCH_COLOURS
            shades = [palette[k % len(palette)] for k in labels]  # 0-1 RGB
            colours = [tuple(int(255 * c) for c in rgb) for rgb in shades]
            limit = np.array([drawing.shape[1], drawing.shape[0]] * 2) - 1
            scaled = [np.clip(np.asarray(b, np.float64).reshape(-1, 4) *
                              factor, 0, limit)
                      for b in (context_boxes, boxes)]
            self.draw_bboxes(scaled[0], edge_colors=colours,
                             line_styles='--', line_widths=1)
            self.draw_bboxes(scaled[1], edge_colors=colours, line_widths=2)
            self.draw_texts(
                [f'{classes[k]} {s:.2f}' for k, s in zip(labels, scores)],
                scaled[1][:, :2], colors='white', font_sizes=9,
                bboxes=[dict(facecolor=c, alpha=0.7, pad=1, edgecolor='none')
                        for c in shades])
        drawn = self.get_image()
        self.add_image(name, drawn, step)
        if out_file is not None:
            mmcv.imwrite(drawn[..., ::-1], out_file)
        return drawn
