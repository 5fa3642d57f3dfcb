"""The object and context branches and their four patch processors."""
from typing import Optional, Tuple

from mmengine.model import BaseModule
from mmpretrain.registry import MODELS, TASK_UTILS
from torch import Tensor, nn
from torchvision.models.detection.faster_rcnn import TwoMLPHead

from ..utils.patch_types import PatchOutputs


@MODELS.register_module()
class PatchBranches(BaseModule):
    """A two-layer MLP per branch on pooled RoI features, and the four
    processors (mmdet's bbox head, two branches).

    Each branch has its own torchvision ``TwoMLPHead``. On the object branch
    sit the location regressor (4 class-agnostic offsets, encoded by
    ``box_coder``), the patch classifier (1 objectness logit) and the object
    label predictor (N logits); on the context branch the context label
    predictor (N logits).

    Args:
        num_classes (int): Number of labels N.
        in_features (int): Size of a flattened RoI feature
            (:attr:`PatchRoIExtractor.out_features`).
        hidden_channels (int): Width of each branch's MLP.
        box_coder (dict): The location regressor's offsets
            (``TASK_UTILS``, :class:`~..task_modules.DeltaXYWHBoxCoder`).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 in_features: int,
                 hidden_channels: int = 1024,
                 box_coder: dict = dict(type='DeltaXYWHBoxCoder'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.box_coder = TASK_UTILS.build(box_coder)
        self.object_head = TwoMLPHead(in_features, hidden_channels)
        self.context_head = TwoMLPHead(in_features, hidden_channels)
        self.location_regressor = nn.Linear(hidden_channels, 4)
        self.patch_classifier = nn.Linear(hidden_channels, 1)
        self.object_label_predictor = nn.Linear(hidden_channels, num_classes)
        self.context_label_predictor = nn.Linear(hidden_channels, num_classes)
        # Faster R-CNN's init of its box predictors.
        for layer, std in ((self.location_regressor, 0.001),
                           (self.patch_classifier, 0.01),
                           (self.object_label_predictor, 0.01),
                           (self.context_label_predictor, 0.01)):
            nn.init.normal_(layer.weight, std=std)
            nn.init.zeros_(layer.bias)

    def locate(self, rois: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """The object branch on pooled ``rois`` (P, C', s, s): its features
        (P, hidden), the offsets (P, 4) and the objectness logits (P,)."""
        feats = self.object_head(rois)
        return (feats, self.location_regressor(feats),
                self.patch_classifier(feats).squeeze(1))

    def label_logits(self, object_rois: Tensor,
                     context_rois: Tensor) -> Tuple[Tensor, Tensor]:
        """The two label predictors: object-branch logits (P, N) on
        ``object_rois`` and context-branch logits (P, N) on
        ``context_rois``."""
        return (self.object_label_predictor(self.object_head(object_rois)),
                self.context_label_predictor(self.context_head(context_rois)))

    def forward(self, object_rois: Tensor,
                context_rois: Tensor) -> PatchOutputs:
        """The four processors' outputs for the pooled object and context
        patches of a batch, (P, C', s, s) each."""
        feats, deltas, objectness = self.locate(object_rois)
        return PatchOutputs(
            deltas, objectness, self.object_label_predictor(feats),
            self.context_label_predictor(self.context_head(context_rois)))
