"""Draw test and validation predictions: ``tools/test.py --show-dir``."""
import math
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.fileio import join_path
from mmpretrain.engine.hooks import VisualizationHook
from mmpretrain.models.heads import MultiLabelClsHead
from mmpretrain.registry import HOOKS
from mmpretrain.structures import DataSample
from torch import Tensor

from ...models.utils.label_rule import head_label_rule
from ..checks import bare_model


def first_view(inputs):
    """The batch's images, the first view only under test-time augmentation.

    A batch holds a tensor (B, C, H, W) or a list of (C, H, W) tensors; with
    ``TestTimeAug`` it holds one of these per view.
    """
    if isinstance(inputs, (list, tuple)) and inputs and (
            isinstance(inputs[0], (list, tuple)) or inputs[0].dim() == 4):
        return inputs[0]
    return inputs


def input_image(item: Tensor, name: str) -> np.ndarray:
    """RGB uint8 (H, W, 3) from a pipeline's BGR uint8 (3, H, W) tensor.

    Raises:
        ValueError: ``item`` is not an image (e.g. video frame features).
    """
    if item.dim() != 3 or item.size(0) != 3 or item.dtype.is_floating_point:
        raise ValueError(
            f'the visualization hook draws images, but the input of sample '
            f'{name} is a {item.dtype} tensor of shape {tuple(item.shape)}. '
            'For frame features (video) use '
            'tools/visualize_frame_attention.py.')
    # LoadImageFromFile reads BGR (mmcv.imread), as the inferencer assumes.
    return np.ascontiguousarray(item.permute(1, 2, 0).cpu().numpy()[..., ::-1])


@HOOKS.register_module()
class MultiLabelVisualizationHook(VisualizationHook):
    """mmpretrain's ``VisualizationHook`` with multi-label figures.

    Every ``interval``-th validation or test sample is drawn with
    :meth:`~mmcma.visualization.AttentionVisualizer.add_label_scores`: the
    image the model saw next to the bars of its best label probabilities
    (predicted labels in colour, the head's threshold dashed) and the ground
    truth in the title. With ``out_dir`` the figure goes to
    ``<out_dir>/<image stem>_<step>.png`` only; without, to the visualizer's
    backends. ``show`` opens a window. Under test-time augmentation the
    first view is drawn (``tools/test.py --tta``: the unflipped image).
    A visualizer without ``add_label_scores`` (not an
    ``AttentionVisualizer``) draws as in mmpretrain.

    Args: as mmpretrain's ``VisualizationHook`` (``enable``, ``interval``,
        ``show``, ``out_dir``, ``wait_time``).
    """

    def before_val(self, runner) -> None:
        self._head = bare_model(runner.model).head

    def before_test(self, runner) -> None:
        self._head = bare_model(runner.model).head

    def _draw_samples(self,
                      batch_idx: int,
                      data_batch: dict,
                      data_samples: Sequence[DataSample],
                      step: int = 0) -> None:
        if not self.enable:
            return
        if not hasattr(self._visualizer, 'add_label_scores'):
            return super()._draw_samples(batch_idx, data_batch, data_samples,
                                         step)
        images = first_view(data_batch['inputs'])
        start = len(data_samples) * batch_idx
        first = math.ceil(start / self.interval) * self.interval
        for index in range(first, start + len(data_samples), self.interval):
            sample = data_samples[index - start]
            name = (osp.splitext(osp.basename(sample.img_path))[0]
                    if 'img_path' in sample else str(index))
            self._draw(input_image(images[index - start], name), sample,
                       name, step)

    def _draw(self, image: np.ndarray, sample: DataSample, name: str,
              step: int) -> None:
        scores = sample.pred_score.float().cpu().numpy()
        classes = (self._visualizer.dataset_meta or {}).get('classes') or [
            str(k) for k in range(len(scores))
        ]
        title = name
        if 'gt_label' in sample:
            truth = ', '.join(classes[k] for k in sample.gt_label.tolist())
            title += f' - ground truth: {truth or "none"}'
        head = getattr(self, '_head', None)
        thr = (head_label_rule(head).get('thr')
               if isinstance(head, MultiLabelClsHead) else None)
        out_file: Optional[str] = None
        if self.out_dir is not None:
            out_file = join_path(self.out_dir, f'{name}_{step}.png')
        drawn = self._visualizer.add_label_scores(
            name, image, sample.pred_label.tolist(), scores, classes,
            thr=thr, step=step, out_file=out_file,
            title=title, backends=out_file is None)
        if self.show:
            self._visualizer.show(drawn, win_name=name,
                                  wait_time=self.draw_args.get('wait_time', 0))
