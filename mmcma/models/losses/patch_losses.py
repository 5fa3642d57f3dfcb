"""Losses of the four patch processors of *Spatial-context-aware deep neural
network for multi-label image classification* (ICASSP 2022 slides).

Each takes the processor's raw output and the :class:`PatchTargets` fields
of the same patches and returns a scalar. A loss with no patch to average
over returns ``0 * output.sum()``: zero, with a graph, so every parameter
still gets a (zero) gradient under distributed training.
"""
import torch.nn.functional as F
from torch import Tensor


def _zero(output: Tensor) -> Tensor:
    return output.sum() * 0


def location_loss(deltas: Tensor, target_deltas: Tensor, objectness: Tensor,
                  sampled: Tensor, beta: float = 1.0) -> Tensor:
    r"""Location regressor: smooth-L1 on the offsets of object patches.

    .. math::

        L_l = \frac{1}{|S_+|} \sum_{p \in S_+} \sum_{i \in \{x,y,w,h\}}
        \phi(\hat t_{p,i} - t^*_{p,i}),\quad
        \phi(x) = \begin{cases} 0.5 x^2 / \beta & |x| < \beta \\
        |x| - 0.5 \beta & \text{otherwise} \end{cases}

    over the sampled object patches :math:`S_+`; ``beta = 1`` is the
    slides' :math:`\phi`.

    Args:
        deltas (Tensor): Predicted offsets, (P, 4).
        target_deltas (Tensor): Offsets to the matched boxes, (P, 4).
        objectness (Tensor): Patch targets in {1, 0, -1}, (P,).
        sampled (Tensor): Patches used by the losses, bool (P,).
        beta (float): Quadratic-to-linear switch point.

    Returns:
        Tensor: Scalar loss.
    """
    positive = sampled & (objectness == 1)
    if not positive.any():
        return _zero(deltas)
    return F.smooth_l1_loss(
        deltas[positive], target_deltas[positive], beta=beta,
        reduction='sum') / positive.sum()


def patch_classifier_loss(logits: Tensor, objectness: Tensor,
                          sampled: Tensor) -> Tensor:
    r"""Patch classifier: binary cross-entropy, object or background.

    .. math::

        L_c = -\frac{1}{|S|} \sum_{p \in S} p^* \log \hat p +
        (1 - p^*) \log (1 - \hat p),\quad \hat p = \sigma(\text{logit})

    over the sampled patches :math:`S` (object and background).

    Args:
        logits (Tensor): Objectness logits, (P,).
        objectness (Tensor): Targets in {1, 0, -1}, (P,).
        sampled (Tensor): Patches used by the losses, bool (P,).

    Returns:
        Tensor: Scalar loss.
    """
    used = sampled & (objectness >= 0)
    if not used.any():
        return _zero(logits)
    return F.binary_cross_entropy_with_logits(logits[used], objectness[used])


def label_predictor_loss(logits: Tensor, labels: Tensor, objectness: Tensor,
                         sampled: Tensor) -> Tensor:
    r"""A label predictor: binary cross-entropy over the labels.

    .. math::

        L_y = -\frac{1}{N |S_+|} \sum_{p \in S_+} \sum_{i=1}^{N}
        y_{p,i} \log \sigma(\hat y_{p,i}) +
        (1 - y_{p,i}) \log(1 - \sigma(\hat y_{p,i}))

    over the sampled object patches :math:`S_+`, whose target is the
    one-hot label of the matched box. The slides sum over the N labels;
    the mean here keeps the scale independent of N (a factor N, which the
    loss weight absorbs).

    Args:
        logits (Tensor): Label logits, (P, N).
        labels (Tensor): One-hot targets, (P, N).
        objectness (Tensor): Patch targets in {1, 0, -1}, (P,).
        sampled (Tensor): Patches used by the losses, bool (P,).

    Returns:
        Tensor: Scalar loss.
    """
    positive = sampled & (objectness == 1)
    if not positive.any():
        return _zero(logits)
    return F.binary_cross_entropy_with_logits(logits[positive],
                                              labels[positive])
