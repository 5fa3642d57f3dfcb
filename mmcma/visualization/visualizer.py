"""A visualizer that sends prediction figures to mmengine's backends."""
from typing import Optional, Sequence

import mmcv
import numpy as np
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
