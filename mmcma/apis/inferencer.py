"""Multi-label inference on image files, folders and arrays."""
import os
import os.path as osp
from math import ceil
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmcv.image import imread
from mmengine.model import BaseModel
from mmpretrain.apis import ImageClassificationInferencer
from mmpretrain.registry import VISUALIZERS
from mmpretrain.structures import DataSample
from mmpretrain.utils import track
from torchvision.datasets.folder import IMG_EXTENSIONS

from ..visualization import AttentionVisualizer
from .model import check_multilabel, class_names, head_selection, init_model

InputType = Union[str, os.PathLike, np.ndarray]


def expand_inputs(
        inputs: Union[InputType, Sequence[InputType]]) -> List[InputType]:
    """Image files and arrays; a folder becomes its image files.

    Folders are searched recursively for torchvision's image extensions
    (``IMG_EXTENSIONS``, any case), in sorted path order. Arrays (BGR, as
    ``mmcv.imread`` gives) pass through.

    Raises:
        FileNotFoundError: A path does not exist, or a folder holds no
            image.
    """
    if isinstance(inputs, (str, os.PathLike, np.ndarray)):
        inputs = [inputs]
    files: List[InputType] = []
    for item in inputs:
        if isinstance(item, np.ndarray):
            files.append(item)
            continue
        path = os.fspath(item)
        if osp.isdir(path):
            found = sorted(
                osp.join(root, name) for root, _, names in os.walk(path)
                for name in names if name.lower().endswith(IMG_EXTENSIONS))
            if not found:
                raise FileNotFoundError(
                    f'no image ({", ".join(IMG_EXTENSIONS)}) in folder '
                    f'{path}')
            files.extend(found)
        elif osp.isfile(path):
            files.append(path)
        else:
            raise FileNotFoundError(f'input not found: {path}')
    return files


def select_labels(scores: np.ndarray,
                  thr: Optional[float] = None,
                  topk: Optional[int] = None) -> List[int]:
    """Labels predicted positive, best first.

    Exactly one rule: ``thr`` keeps every label with ``score >= thr``;
    ``topk`` keeps the k best. Ties keep the lower index first.

    Args:
        scores (np.ndarray): Probabilities (N,).
        thr (float, optional): Score threshold.
        topk (int, optional): Number of labels, 1 <= k <= N.

    Returns:
        List[int]: Label indices by decreasing score.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if (thr is None) == (topk is None):
        raise ValueError(f'give exactly one of thr and topk, got thr={thr}, '
                         f'topk={topk}')
    order = np.argsort(-scores, kind='stable')
    if topk is not None:
        if not 1 <= topk <= len(scores):
            raise ValueError(f'topk must be in [1, {len(scores)}], got '
                             f'{topk}')
        return order[:topk].tolist()
    return [int(k) for k in order if scores[k] >= thr]


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
    array input) and with ``return_attention`` ``attention`` (a list with
    one (N, h, w) array per scale, heads with ``get_attention``).

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
                 per_scale: bool = False) -> list:
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
                the attention grid for attention heads, the image and its
                best labels otherwise.
            per_scale (bool): Attention figures with one row per scale
                instead of the mean of the scales.

        Returns:
            list: One result dict (or ``DataSample``) per image.
        """
        selection = self.selection(thr, topk)
        has_attention = hasattr(self.model.head, 'get_attention')
        if return_attention and not has_attention:
            raise TypeError(f'{type(self.model.head).__name__} has no '
                            'get_attention: no attention to return')
        attention = return_attention or (show_dir is not None
                                         and has_attention)
        files = expand_inputs(inputs)
        names = _unique_names(files)
        results = []
        batches = self.preprocess(files, batch_size=batch_size)
        for data in track(batches, 'Inference',
                          total=ceil(len(files) / batch_size)):
            preds = self.forward(data, attention=attention, **selection)
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

    # -------------------------------------------------------------- forward
    @torch.no_grad()
    def forward(self, data: dict, attention: bool = False,
                **selection) -> List[DataSample]:
        """``model.test_step`` (= ``predict``), then the label selection.

        With ``attention`` the same predictions come from the features
        (``extract_feat`` then ``head.predict``, as ``ImageClassifier``
        predicts) and each sample also gets ``attention`` (one (N, ...) map
        per scale) and ``input_image`` (the RGB uint8 image the model saw).
        """
        if not attention:
            preds = self.model.test_step(data)
        else:
            raw = data['inputs']
            batch = self.model.data_preprocessor(data, False)
            feats = self.model.extract_feat(batch['inputs'])
            preds = self.model.head.predict(feats, batch['data_samples'])
            maps = self.model.head.get_attention(feats)
            for i, pred in enumerate(preds):
                pred.set_field([m[i].float().cpu().numpy() for m in maps],
                               'attention', field_type='metainfo')
                # The pipeline gives BGR (mmcv.imread) CHW uint8.
                pred.set_field(
                    np.ascontiguousarray(raw[i].permute(1, 2, 0).cpu().numpy()
                                         [..., ::-1]),
                    'input_image', field_type='metainfo')
        for pred in preds:
            labels = select_labels(pred.pred_score.cpu().numpy(), **selection)
            pred.set_pred_label(torch.as_tensor(labels, dtype=torch.long))
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
            if 'attention' in pred:
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
            results.append(result)
        return results

    def label_names(self, num_classes: int) -> List[str]:
        """Class names for ``num_classes`` scores (checked once)."""
        if getattr(self, '_names', None) is None:
            self._names = class_names(self.model, num_classes, self.classes)
        return self._names


def _unique_names(files: Sequence[InputType]) -> List[str]:
    """A file name stem per input (``i`` for arrays), made unique with a
    ``_<n>`` suffix where two folders hold the same name."""
    names, seen = [], {}
    for i, item in enumerate(files):
        stem = Path(item).stem if isinstance(item, str) else str(i)
        count = seen.get(stem, 0)
        seen[stem] = count + 1
        names.append(stem if count == 0 else f'{stem}_{count}')
    return names


def to_json(results: Sequence[dict], classes: Sequence[str],
            selection: Dict[str, float]) -> dict:
    """A JSON-serialisable record of inference results.

    Schema: ``{"classes": [N names], "selection": {"thr": t} | {"topk": k},
    "predictions": [{"image", "pred_labels", "pred_classes",
    "pred_label_scores", "pred_scores" (N floats)}]}``.
    """
    keys = ('image', 'pred_labels', 'pred_classes', 'pred_label_scores')
    return dict(
        classes=list(classes),
        selection=dict(selection),
        predictions=[
            dict({k: r[k] for k in keys},
                 pred_scores=[float(s) for s in r['pred_scores']])
            for r in results
        ])
