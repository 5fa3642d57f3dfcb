"""The one rule that turns label scores into predicted labels.

mmpretrain's ``MultiLabelClsHead._get_predictions`` decides which labels of a
sample are positive: with ``thr`` every label whose score is ``>= thr``, in
index order (``torch.where``); otherwise the ``topk`` best, best first
(``Tensor.topk``); ``thr`` wins when a head sets both. mmpretrain keeps the
rule inside that method, which takes logits and fills data samples, so the
inferencer, the ONNX metadata, test-time augmentation (averaged
probabilities) and the figures share this copy instead; a test compares it
with mmpretrain's heads and with an independent computation.
"""
import numbers
from typing import Dict, Optional, Union

import numpy as np
import torch
from torch import Tensor

from ...io import InputOptionError

#: ``{'thr': t}`` or ``{'topk': k}``: one rule, ready for ``**`` passing.
LabelRule = Dict[str, Union[float, int]]


class LabelRuleError(InputOptionError):
    """A threshold or top-k that no label selection can use."""


def check_label_rule(thr: Optional[float] = None,
                     topk: Optional[int] = None,
                     num_classes: Optional[int] = None) -> LabelRule:
    """Check a rule given by a user; return it as ``{'thr'}`` or ``{'topk'}``.

    Args:
        thr (float, optional): Score threshold, in [0, 1].
        topk (int, optional): Number of labels, at least 1 (and at most
            ``num_classes`` when given).
        num_classes (int, optional): Number of labels of the model.

    Raises:
        LabelRuleError: Both or neither given, ``thr`` not a number in
            [0, 1], ``topk`` not a whole number in [1, num_classes].
    """
    if thr is not None and topk is not None:
        raise LabelRuleError(f'give thr or topk, not both (got thr={thr!r}, '
                             f'topk={topk!r})')
    if thr is not None:
        if (isinstance(thr, bool) or not isinstance(thr, numbers.Real)
                or not 0 <= thr <= 1):
            raise LabelRuleError(
                f'thr must be a number in [0, 1], got {thr!r}')
        return dict(thr=float(thr))
    if topk is None:
        raise LabelRuleError('give thr or topk, got neither')
    expected = ('a whole number >= 1' if num_classes is None else
                f'a whole number in [1, {num_classes}] (the number of labels)')
    if (isinstance(topk, bool) or not isinstance(topk, numbers.Integral)
            or topk < 1 or (num_classes is not None and topk > num_classes)):
        raise LabelRuleError(f'topk must be {expected}, got {topk!r}')
    return dict(topk=int(topk))


def head_label_rule(head) -> LabelRule:
    """The rule of a multi-label head: its ``thr``, else its ``topk``, as
    mmpretrain's ``MultiLabelClsHead`` decides."""
    if head.thr is not None:
        return dict(thr=float(head.thr))
    return dict(topk=int(head.topk))


def select_labels(scores: Union[Tensor, np.ndarray],
                  thr: Optional[float] = None,
                  topk: Optional[int] = None) -> Tensor:
    """The labels predicted positive, in mmpretrain's order.

    Args:
        scores (Tensor | np.ndarray): Scores of one sample (N,).
        thr (float, optional): Keep every label with ``score >= thr``, in
            index order.
        topk (int, optional): Keep the ``topk`` best, best first; ties keep
            the lower index first (a stable sort; ``Tensor.topk`` leaves the
            order of ties unspecified).

    Returns:
        Tensor: int64 label indices (K,), on the scores' device.
    """
    scores = torch.as_tensor(scores)
    if scores.dim() != 1:
        raise LabelRuleError(f'scores must be one sample (N,), got shape '
                             f'{tuple(scores.shape)}')
    rule = check_label_rule(thr, topk, scores.numel())
    if 'thr' in rule:
        return torch.where(scores >= rule['thr'])[0]
    order = torch.sort(scores, descending=True, stable=True).indices
    return order[:rule['topk']]
