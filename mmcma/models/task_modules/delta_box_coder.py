"""Box offsets of the location regressor and the RPN: centre shifts scaled
by the reference box's size and log size ratios.

Written here because torchvision keeps its box coder in the private
``torchvision.models.detection._utils``; this is the same parametrisation
(Faster R-CNN's), as a registered task module.
"""
import math
from typing import Sequence

import torch
from mmpretrain.registry import TASK_UTILS
from torch import Tensor

#: Largest decoded log size ratio (Faster R-CNN's): exp(4.1) = 62.5.
MAX_LOG_RATIO = math.log(1000.0 / 16)


def _centre_size(boxes: Tensor):
    """Centres ``(x, y)`` and sizes ``(w, h)`` of (K, 4) boxes, each (K,)."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h, w, h


@TASK_UTILS.register_module()
class DeltaXYWHBoxCoder:
    """Encode boxes as offsets from reference boxes, and decode them.

    With centres ``(x, y)``, sizes ``(w, h)`` and weights
    ``(wx, wy, ww, wh)``, the offsets that move a reference ``r`` onto a box
    are::

        t = (wx (x - x_r) / w_r,  wy (y - y_r) / h_r,
             ww log(w / w_r),     wh log(h / h_r))

    Decoding inverts this, with the log size ratios clamped at
    ``max_log_ratio`` before ``exp``.

    Args:
        weights (Sequence[float]): ``(wx, wy, ww, wh)``.
        max_log_ratio (float): Largest decoded log size ratio.
    """

    def __init__(self,
                 weights: Sequence[float] = (10., 10., 5., 5.),
                 max_log_ratio: float = MAX_LOG_RATIO):
        if len(weights) != 4 or min(weights) <= 0:
            raise ValueError('weights must be four positive numbers '
                             f'(wx, wy, ww, wh), got {tuple(weights)}')
        self.weights = tuple(float(w) for w in weights)
        self.max_log_ratio = max_log_ratio

    def encode(self, boxes: Tensor, reference: Tensor) -> Tensor:
        """Offsets (K, 4) moving ``reference`` (K, 4; positive sizes) onto
        ``boxes`` (K, 4)."""
        wx, wy, ww, wh = self.weights
        x, y, w, h = _centre_size(boxes)
        xr, yr, wr, hr = _centre_size(reference)
        return torch.stack([wx * (x - xr) / wr, wy * (y - yr) / hr,
                            ww * torch.log(w / wr), wh * torch.log(h / hr)],
                           dim=1)

    def decode(self, deltas: Tensor, reference: Tensor) -> Tensor:
        """Boxes (K, 4): ``deltas`` (K, 4) applied to ``reference`` (K, 4)
        (in the offsets' dtype)."""
        wx, wy, ww, wh = self.weights
        xr, yr, wr, hr = _centre_size(reference.to(deltas.dtype))
        x = deltas[:, 0] / wx * wr + xr
        y = deltas[:, 1] / wy * hr + yr
        w = torch.exp((deltas[:, 2] / ww).clamp(max=self.max_log_ratio)) * wr
        h = torch.exp((deltas[:, 3] / wh).clamp(max=self.max_log_ratio)) * hr
        return torch.stack([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w,
                            y + 0.5 * h], dim=1)
