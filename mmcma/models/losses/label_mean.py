"""A multi-label loss averaged over the labels as well (ML-GCN's scale)."""
from mmpretrain.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class MeanOverLabelsLoss(nn.Module):
    """Another multi-label loss, divided by the number of labels N.

    mmpretrain's multi-label heads pass ``avg_factor=B``: a loss that follows
    mmpretrain's reduction is then summed over the labels and averaged over
    the batch. ML-GCN trains with torch's ``MultiLabelSoftMarginLoss``, the
    mean over batch *and* labels, which sets the scale its learning rate
    (0.1) and gradient clipping (10) were tuned for. With the default inner
    loss this is that loss; any other keeps its own terms and gets the same
    scale. mmpretrain's losses take no option for it (``loss_weight=1/N``
    would tie the config to N).

    Args:
        loss (dict): The loss to divide. Defaults to
            ``dict(type='CrossEntropyLoss', use_sigmoid=True)``.
    """

    def __init__(self,
                 loss: dict = dict(type='CrossEntropyLoss', use_sigmoid=True)):
        super().__init__()
        self.loss = MODELS.build(loss)

    def forward(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        """The inner loss of logits ``pred`` (B, N) divided by N; keyword
        arguments (``avg_factor``, ``weight``, ...) go to the inner loss."""
        return self.loss(pred, target, **kwargs) / pred.size(-1)
