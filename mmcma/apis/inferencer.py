"""Multi-label inference on image files, folders and arrays."""
import os
import os.path as osp
from math import ceil
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmcv.image import imread
from mmengine.model import BaseModel
from mmpretrain.apis import ImageClassificationInferencer
from mmpretrain.registry import VISUALIZERS
from mmpretrain.structures import DataSample
from mmpretrain.utils import track

from ..models.capabilities import model_capabilities
from ..models.spatial_context import top_patches
from ..visualization import AttentionVisualizer
from .io import (InputType, expand_inputs, patch_records, select_labels,
                 unique_names)
from .model import check_multilabel, class_names, head_selection, init_model


class MultiLabelInferencer(ImageClassificationInferencer):
    """Multi-label inference in mmpretrain's inferencer style.

    Works with every mmpretrain multi-label head (mmcma's ``CMAHead`` and
    ``MSCMAHead``, whose scores are already fused probabilities; mmpretrain's
    ``MultiLabelLinearClsHead``, ``CSRAClsHead``): scores are the
    ``pred_score`` of ``model.predict``. The test pipeline of the config
    prepares the images (mmpretrain's ``ImageClassificationInferencer``
    machinery, which this class extends); the model is built with
    :func:`~mmcma.apis.init_model`, so checkpoints load strictly.

    Each result is a dict: ``pred_scores`` (N,) float32 array,
    ``pred_labels`` (selected labels, best first), ``pred_classes`` (their
    names), ``pred_label_scores``, ``image`` (the path, or the index of an
    array input), with ``return_attention`` ``attention`` (a list with
    one (N, h, w) array per scale, heads with ``get_attention``) and for
    spatial-context models asked for ``patches`` the best (patch, label)
    pairs, best first: ``patches``, a list of dicts ``box`` and
    ``context_box`` (``[x0, y0, x1, y1]`` in pixels of the image the model
    saw, after the test pipeline), ``label``, ``class``, ``score``.

    Args:
        model (BaseModel | str | Config): A built model (with ``_config``,
            as ``init_model`` or mmpretrain's ``get_model`` leave it) or a
            config.
        pretrained (str, optional): Checkpoint for a config ``model``.
        device (str, optional): Device. Defaults to the CPU.
        classes (Sequence[str], optional): Class names; by default the
            checkpoint's or the config's (:func:`init_model`), else indices.
        thr (float, optional): Default threshold of the label selection.
        topk (int, optional): Default top-k of the label selection. Without
            either the head's own rule applies (its ``thr``, else ``topk``).
        visualizer (dict | AttentionVisualizer, optional): Draws the
            figures; a dict is built from ``VISUALIZERS`` (e.g. with a
            ``TensorboardVisBackend``). Defaults to an
            :class:`~mmcma.visualization.AttentionVisualizer` without
            backends.

    Example:
        >>> config = 'configs/demo/' \
        ...     'mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py'
        >>> inferencer = MultiLabelInferencer(
        ...     config, pretrained='work_dirs/demo/epoch_24.pth')
        >>> results = inferencer('data/scenes/val', batch_size=8, topk=3)
        >>> sorted(results[0])
        ['image', 'pred_classes', 'pred_label_scores', 'pred_labels',
         'pred_scores']
    """

    def __init__(self,
                 model,
                 pretrained: Optional[str] = None,
                 device: Optional[str] = None,
                 classes: Optional[Sequence[str]] = None,
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 visualizer: Union[dict, AttentionVisualizer, None] = None):
        if not isinstance(model, BaseModel):
            model = init_model(model, pretrained, device=device or 'cpu')
        elif pretrained is not None:
            raise ValueError('pretrained is for a config; load the checkpoint '
                             'into a built model yourself (init_model)')
        elif not hasattr(model, '_config'):
            raise TypeError('a built model needs its config: build it with '
                            'mmcma.apis.init_model or mmpretrain.get_model')
        check_multilabel(model)
        super().__init__(model, pretrained=False, device=device,
                         classes=classes)
        self.thr, self.topk = thr, topk
        if isinstance(visualizer, dict):
            visualizer = VISUALIZERS.build(visualizer)
        self.visualizer = visualizer

    # ------------------------------------------------------------------ call
    def __call__(self,
                 inputs: Union[InputType, Sequence[InputType]],
                 return_datasamples: bool = False,
                 batch_size: int = 1,
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 return_attention: bool = False,
                 show_dir: Optional[str] = None,
                 per_scale: bool = False,
                 patches: Optional[int] = None) -> list:
        """Predict the labels of every image.

        Batches stream through forward, drawing and post-processing, so
        memory does not grow with the number of images (except the results).

        Args:
            inputs: Image paths, folders (recursive) or BGR arrays.
            return_datasamples (bool): Return mmpretrain ``DataSample``s
                (``pred_label`` = the selected labels). Defaults to False.
            batch_size (int): Images per forward pass. Defaults to 1.
            thr (float, optional): Threshold of the label selection.
            topk (int, optional): Top-k of the label selection (not with
                ``thr``). Defaults to the constructor's, else the head's.
            return_attention (bool): Add the attention maps to the results
                (heads with ``get_attention``).
            show_dir (str, optional): Write one figure per image there:
                the attention grid for attention heads, the best patches
                for spatial-context models, the image and its best labels
                otherwise.
            per_scale (bool): Attention figures with one row per scale
                instead of the mean of the scales.
            patches (int, optional): Spatial-context models
                (``predict_patches``): report (``patches`` in the results)
                and draw the k best (patch, label) pairs
                (:func:`mmcma.models.spatial_context.top_patches`: per-label
                NMS at IoU 0.5). Defaults to 5 with ``show_dir``, else 0.

        Returns:
            list: One result dict (or ``DataSample``) per image.
        """
        selection = self.selection(thr, topk)
        has_attention = model_capabilities(self.model).attention
        if return_attention and not has_attention:
            raise TypeError(f'{type(self.model.head).__name__} has no '
                            'get_attention: no attention to return')
        attention = return_attention or (show_dir is not None
                                         and has_attention)
        patches = self.num_patches(patches, show_dir)
        files = expand_inputs(inputs)
        names = unique_names(files)
        results = []
        batches = self.preprocess(files, batch_size=batch_size)
        for data in track(batches, 'Inference',
                          total=ceil(len(files) / batch_size)):
            preds = self.forward(data, attention=attention, patches=patches,
                                 **selection)
            start = len(results)
            chunk = files[start:start + len(preds)]
            for i, pred in enumerate(preds):
                pred.set_metainfo(
                    dict(image=chunk[i] if isinstance(chunk[i], str) else
                         start + i, name=names[start + i]))
            self.visualize(chunk, preds, show_dir=show_dir,
                           per_scale=per_scale, thr=selection.get('thr'))
            results.extend(
                self.postprocess(preds, None, return_datasamples,
                                 return_attention=return_attention))
        return results

    def selection(self, thr: Optional[float],
                   topk: Optional[int]) -> Dict[str, float]:
        """The label rule: the call's, else the constructor's, else the
        head's (``thr`` first, as mmpretrain's heads decide)."""
        for rule in ((thr, topk), (self.thr, self.topk)):
            if rule != (None, None):
                thr, topk = rule
                break
        else:
            return head_selection(self.model)
        if thr is not None and topk is not None:
            raise ValueError(f'give thr or topk, not both (thr={thr}, '
                             f'topk={topk})')
        return dict(thr=thr) if thr is not None else dict(topk=topk)

    def num_patches(self, patches: Optional[int],
                    show_dir: Optional[str]) -> int:
        """How many (patch, label) pairs to report: ``patches``, else 5 for
        a spatial-context model with ``show_dir``, else 0."""
        has_patches = model_capabilities(self.model).patches
        if patches is None:
            return 5 if has_patches and show_dir is not None else 0
        if patches < 0:
            raise ValueError(f'patches must be >= 0, got {patches}')
        if patches and not has_patches:
            raise TypeError(f'{type(self.model).__name__} has no '
                            'predict_patches: patches are for '
                            'spatial-context models')
        return patches

    # -------------------------------------------------------------- forward
    @torch.no_grad()
    def forward(self, data: dict, attention: bool = False, patches: int = 0,
                **selection) -> List[DataSample]:
        """``model.test_step`` (= ``predict``), then the label selection.

        With ``attention`` the same predictions come from the features
        (``extract_feat`` then ``head.predict``, as ``ImageClassifier``
        predicts) and each sample also gets ``attention`` (one (N, ...) map
        per scale); with ``patches`` (spatial-context models) they come from
        the feature pyramid and each sample also gets ``patches``, the
        :class:`~mmcma.models.spatial_context.TopPatches` of its
        ``patches`` best pairs. Both add ``input_image`` (the RGB uint8
        image the model saw).
        """
        if not (attention or patches):
            preds = self.model.test_step(data)
        else:
            raw = data['inputs']
            batch = self.model.data_preprocessor(data, False)
            if patches:
                preds = self._predict_patches(batch, patches)
            else:
                feats = self.model.extract_feat(batch['inputs'])
                preds = self.model.head.predict(feats, batch['data_samples'])
                maps = self.model.head.get_attention(feats)
                for i, pred in enumerate(preds):
                    pred.set_field([m[i].float().cpu().numpy() for m in maps],
                                   'attention', field_type='metainfo')
            for i, pred in enumerate(preds):
                # The pipeline gives BGR (mmcv.imread) CHW uint8.
                pred.set_field(
                    np.ascontiguousarray(raw[i].permute(1, 2, 0).cpu().numpy()
                                         [..., ::-1]),
                    'input_image', field_type='metainfo')
        for pred in preds:
            labels = select_labels(pred.pred_score.cpu().numpy(), **selection)
            pred.set_pred_label(torch.as_tensor(labels, dtype=torch.long))
        return preds

    def _predict_patches(self, batch: dict, k: int) -> List[DataSample]:
        """Predictions and each image's ``k`` best (patch, label) pairs,
        from one feature pyramid."""
        pyramid = self.model.extract_pyramid(batch['inputs'],
                                             batch['data_samples'])
        preds = self.model.head.predict(pyramid, batch['data_samples'])
        for pred, found in zip(preds,
                               self.model.head.predict_patches(pyramid)):
            top = top_patches(found, k=k)
            pred.set_field(type(top)(*(t.cpu() for t in top)), 'patches',
                           field_type='metainfo')
        return preds

    # ------------------------------------------------------------ visualize
    def visualize(self,
                  ori_inputs: Sequence[InputType],
                  preds: List[DataSample],
                  show_dir: Optional[str] = None,
                  per_scale: bool = False,
                  thr: Optional[float] = None) -> None:
        """Write one figure per prediction to ``show_dir`` (and send it to
        the visualizer's backends): the attention grid over the image the
        model saw, or the original image and its best labels."""
        if show_dir is None:
            return
        os.makedirs(show_dir, exist_ok=True)
        if self.visualizer is None:
            self.visualizer = AttentionVisualizer(name='mmcma_inferencer')
        for source, pred in zip(ori_inputs, preds):
            scores = pred.pred_score.float().cpu().numpy()
            labels = pred.pred_label.tolist()
            classes = self.label_names(len(scores))
            out_file = osp.join(show_dir, f'{pred.name}.png')
            if 'patches' in pred:
                top = pred.patches
                self.visualizer.add_patches(
                    pred.name, pred.input_image, top.boxes.numpy(),
                    top.context_boxes.numpy(), top.labels.tolist(),
                    top.scores.tolist(), classes, out_file=out_file)
            elif 'attention' in pred:
                self.visualizer.add_attention(
                    pred.name, pred.input_image, pred.attention, labels,
                    scores, classes, per_scale=per_scale, out_file=out_file)
            else:
                image = imread(source)[..., ::-1]  # BGR (as loaded) -> RGB
                self.visualizer.add_label_scores(
                    pred.name, np.ascontiguousarray(image), labels, scores,
                    classes, thr=thr, out_file=out_file)

    # ---------------------------------------------------------- postprocess
    def postprocess(self,
                    preds: List[DataSample],
                    visualization=None,
                    return_datasamples: bool = False,
                    return_attention: bool = False) -> list:
        """Result dicts (see the class docstring), or the samples."""
        if return_datasamples:
            return preds
        results = []
        for pred in preds:
            scores = pred.pred_score.float().cpu().numpy()
            labels = pred.pred_label.tolist()
            classes = self.label_names(len(scores))
            result = dict(
                image=pred.image,
                pred_scores=scores,
                pred_labels=labels,
                pred_classes=[classes[k] for k in labels],
                pred_label_scores=[float(scores[k]) for k in labels])
            if return_attention:
                result['attention'] = pred.attention
            if 'patches' in pred:
                result['patches'] = patch_records(pred.patches, classes)
            results.append(result)
        return results

    def label_names(self, num_classes: int) -> List[str]:
        """Class names for ``num_classes`` scores (checked once)."""
        if getattr(self, '_names', None) is None:
            self._names = class_names(self.model, num_classes, self.classes)
        return self._names
