"""Test-time augmentation for multi-label models: average the probabilities.
"""
from typing import List

from mmpretrain.models.tta import AverageClsScoreTTA
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .utils.label_rule import head_label_rule, select_labels


@MODELS.register_module()
class MultiLabelScoreTTA(AverageClsScoreTTA):
    """mmpretrain's ``AverageClsScoreTTA`` that also re-selects the labels.

    Each sample's ``pred_score`` is the mean of the probabilities of its
    augmented views (as in ``AverageClsScoreTTA``). That class keeps the
    ``pred_label`` of the first view; here ``pred_label`` is chosen again
    from the averaged scores with the wrapped model's head rule (its
    ``thr``, else its ``topk``: :func:`~mmcma.models.utils.select_labels`),
    so labels and scores agree.

    Config: ``tta_model = dict(type='MultiLabelScoreTTA')`` with a
    ``tta_pipeline`` whose ``TestTimeAug`` gives the views
    (``tools/test.py --tta`` builds a flip average when the config has
    neither).
    """

    def merge_preds(
            self, data_samples_list: List[List[DataSample]]
    ) -> List[DataSample]:
        """One merged sample per input from its views' samples."""
        merged = super().merge_preds(data_samples_list)
        rule = head_label_rule(self.module.head)
        for sample in merged:
            sample.set_pred_label(select_labels(sample.pred_score, **rule))
        return merged
