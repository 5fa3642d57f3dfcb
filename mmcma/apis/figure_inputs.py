"""Predictions with what the figures need: attention maps, best patches and
the image the model saw (used by :class:`~mmcma.apis.MultiLabelInferencer`
when a call asks for attention, patches or figures)."""
from typing import List

import numpy as np
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample

from .patches import best_patch_per_label


def predict_with_figures(model: BaseModel, data: dict, attention: bool,
                         num_patches: int) -> List[DataSample]:
    """The predictions of ``model.test_step(data)``, computed from the
    features (``extract_feat`` then ``head.predict``, as ``ImageClassifier``
    predicts) so that each sample can also get ``attention`` (one (N, ...)
    map per scale, when ``attention``) and ``patches`` (the best patch of
    each of the ``num_patches`` best labels); every sample gets
    ``input_image``, the RGB uint8 (H, W, 3) image the model saw."""
    batch = model.data_preprocessor(data, False)
    inputs, samples = batch['inputs'], batch['data_samples']
    if attention:
        feats = model.extract_feat(inputs)
        preds = model.head.predict(feats, samples)
        maps = model.head.get_attention(feats)
        for i, pred in enumerate(preds):
            pred.set_field([m[i].float().cpu().numpy() for m in maps],
                           'attention', field_type='metainfo')
    else:
        preds = model.predict(inputs, samples)
    if num_patches:
        # The declared capability gives the patches from the images, so
        # the backbone runs a second time (for figures only).
        found = model.predict_patches(inputs, samples)
        for pred, image_patches in zip(preds, found):
            pred.set_field(
                best_patch_per_label(image_patches, num_patches),
                'patches', field_type='metainfo')
    for i, pred in enumerate(preds):
        # The pipeline gives BGR (mmcv.imread) CHW uint8.
        pred.set_field(
            np.ascontiguousarray(data['inputs'][i].permute(
                1, 2, 0).cpu().numpy()[..., ::-1]),
            'input_image', field_type='metainfo')
    return preds
