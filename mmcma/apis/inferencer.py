"""Multi-label inference on image files, folders and arrays, on mmpretrain's
inferencer stages (preprocess, forward, visualize, postprocess)."""
import os
import os.path as osp
from math import ceil
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.model import BaseModel
from mmpretrain.apis import ImageClassificationInferencer
from mmpretrain.datasets import remove_transform
from mmpretrain.registry import TRANSFORMS
from mmpretrain.structures import DataSample

from ..datasets.image_check import DEFAULT_MAX_PIXELS
from ..models.capabilities import model_capabilities
from ..models.utils.label_rule import (LabelRule, check_label_rule,
                                       head_label_rule, select_labels)
from ..visualization import AttentionVisualizer, build_visualizer
from .errors import InferenceInputError, InferenceTypeError
from .figure_inputs import predict_with_figures
from .io import (InputType, collate_batch, expand_inputs, load_input,
                 patch_records, transform_input, unique_names)
from .model import check_servable, class_names, init_model
from .options import (check_attention, check_flag, check_patches,
                      check_show_dir, check_whole)
from .progress import track


class MultiLabelInferencer(ImageClassificationInferencer):
    """Multi-label inference in mmpretrain's inferencer style.

    Works with every mmpretrain multi-label head (mmcma's CMA, MS-CMA,
    ML-GCN, KSSNet and spatial-context models; mmpretrain's
    ``MultiLabelLinearClsHead``, ``CSRAClsHead``): scores are the
    ``pred_score`` of ``model.predict``. The config's test pipeline
    (``test_dataloader.dataset.pipeline``) prepares each image, which is
    read as the datasets read it (``mmcv.imread``, BGR) after its header
    passed the datasets' pixel limit (the test dataset's ``max_pixels``,
    else :data:`~mmcma.datasets.image_check.DEFAULT_MAX_PIXELS`). The model
    is built with :func:`~mmcma.apis.init_model`, so checkpoints load
    strictly. Models that read frame features (video configs) are refused.

    A call runs mmpretrain's four stages, each with its keyword set
    (``preprocess_kwargs``, ``forward_kwargs``, ``visualize_kwargs``,
    ``postprocess_kwargs``), one batch at a time: a batch is forwarded,
    drawn and turned into results before the next is read, so memory does
    not grow with the number of images (except the results).

    Each result is a dict:

    - ``image``: the path, or the index of an array input;
    - ``pred_scores``: (N,) float32 array of probabilities;
    - ``pred_labels``: the selected labels in mmpretrain's order (index
      order with ``thr``, best first with ``topk``:
      :func:`~mmcma.models.utils.select_labels`), ``pred_classes`` their
      names, ``pred_label_scores`` their scores;
    - ``attention`` (with ``return_attention``): one (N, h, w) array per
      scale, each label's attention (eq. 8) over the image the model saw;
    - ``patches`` (spatial-context models, with ``patches`` or
      ``show_dir``): the best patch of each of the best labels, best first,
      as dicts ``box`` and ``context_box`` (``[x0, y0, x1, y1]`` in pixels
      of the image the model saw, after the test pipeline), ``label``,
      ``class``, ``score``;
    - ``figure`` (with ``show_dir``): the path of the image's figure.

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
            ``TensorboardVisBackend``; ``name`` may be left out). Defaults
            to an :class:`~mmcma.visualization.AttentionVisualizer` without
            backends.

    Example:
        >>> config = 'configs/demo/' \
        ...     'mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py'
        >>> inferencer = MultiLabelInferencer(
        ...     config, pretrained='work_dirs/demo/epoch_24.pth')
        >>> results = inferencer('photos/', batch_size=8, topk=3)
        >>> sorted(results[0])
        ['image', 'pred_classes', 'pred_label_scores', 'pred_labels',
         'pred_scores']
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = {
        'thr', 'topk', 'return_attention', 'patches', 'show_dir'
    }
    visualize_kwargs: set = {'show_dir', 'per_scale', 'thr', 'topk'}
    postprocess_kwargs: set = {'return_attention'}

    def __init__(self,
                 model: Union[BaseModel, str, Config],
                 pretrained: Optional[str] = None,
                 device: Optional[str] = None,
                 classes: Optional[Sequence[str]] = None,
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 visualizer: Union[dict, AttentionVisualizer, None] = None):
        if not isinstance(model, BaseModel):
            model = init_model(model, pretrained, device=device or 'cpu',
                               check=check_servable)
        elif pretrained is not None:
            raise InferenceInputError(
                'pretrained is for a config model; load the checkpoint into '
                'a built model yourself (mmcma.apis.init_model)')
        elif getattr(model, '_config', None) is None:
            raise InferenceTypeError(
                'a built model needs its config (model._config): build it '
                'with mmcma.apis.init_model or mmpretrain.get_model')
        check_servable(model)
        super().__init__(model, pretrained=False, device=device,
                         classes=classes)
        self.num_classes = getattr(self.model.head, 'num_classes', None)
        self.default_rule: Optional[LabelRule] = None
        if (thr, topk) != (None, None):
            self.default_rule = check_label_rule(thr, topk, self.num_classes)
        dataset = self.config.test_dataloader.get('dataset', {})
        self.max_pixels = dataset.get('max_pixels', DEFAULT_MAX_PIXELS)
        self.visualizer = build_visualizer(
            visualizer or dict(type='AttentionVisualizer'))

    def _init_pipeline(self, cfg: Config) -> Callable:
        """The config's test pipeline without its image loading (the
        inferencer reads the images itself)."""
        try:
            steps = cfg.test_dataloader.dataset.pipeline
        except AttributeError:
            raise InferenceTypeError(
                f'config {cfg.filename} has no test_dataloader.dataset.'
                'pipeline: the inferencer prepares images with it') from None
        steps = remove_transform(steps, 'LoadImageFromFile')
        return Compose([TRANSFORMS.build(t) for t in steps])

    def _inputs_to_list(self, inputs) -> List[InputType]:
        return expand_inputs(inputs)

    # ------------------------------------------------------------------ call
    def __call__(self,
                 inputs: Union[InputType, Sequence[InputType]],
                 return_datasamples: bool = False,
                 batch_size: int = 1,
                 **kwargs) -> list:
        """Predict the labels of every image.

        mmpretrain's ``BaseInferencer.__call__`` forwards every batch before
        it draws and post-processes all predictions at once, holding each
        image's attention maps and input until the end; here each batch goes
        through the four stages in turn (the same stages and keyword sets).
        Every option is checked before the first image is read.

        Args:
            inputs: Image paths, folders (recursive) or BGR uint8 arrays.
            return_datasamples (bool): Return mmpretrain ``DataSample``s
                (``pred_label`` = the selected labels) instead of dicts.
            batch_size (int): Images per forward pass. Defaults to 1.
            thr (float, optional): Threshold of the label selection, in
                [0, 1].
            topk (int, optional): Top-k of the label selection (not with
                ``thr``). Defaults to the constructor's, else the head's.
            return_attention (bool): Add the attention maps to the results
                (heads that show attention).
            show_dir (str, optional): Write one figure per image there
                (``<name>.png``; a name that repeats across folders gets a
                ``_<n>`` suffix, so no figure overwrites another): the
                attention grid for attention heads, the best patch of each of
                the best labels for spatial-context models, the image and
                its best labels otherwise.
            per_scale (bool): Attention figures with one row per scale
                instead of the mean of the scales.
            patches (int, optional): Spatial-context models: report (and
                draw) the best patch of each of the ``patches`` best labels.
                Defaults to 5 with ``show_dir``, else 0.

        Returns:
            list: One result dict (see the class docstring) or
            ``DataSample`` per image, in input order.
        """
        check_flag('return_datasamples', return_datasamples)
        batch_size = check_whole('batch_size', batch_size, 1)
        preprocess_kwargs, forward_kwargs, visualize_kwargs, \
            postprocess_kwargs = self._dispatch_kwargs(**kwargs)
        self.check_options(**kwargs)
        ori_inputs = self._inputs_to_list(inputs)
        batches = self.preprocess(ori_inputs, batch_size=batch_size,
                                  **preprocess_kwargs)
        starts = range(0, len(ori_inputs), batch_size)
        results = []
        for start, data in track(zip(starts, batches),
                                 total=ceil(len(ori_inputs) / batch_size)):
            preds = self.forward(data, **forward_kwargs)
            visualization = self.visualize(
                ori_inputs[start:start + len(preds)], preds,
                **visualize_kwargs)
            results.extend(
                self.postprocess(preds, visualization, return_datasamples,
                                 **postprocess_kwargs))
        return results

    def check_options(self,
                      thr: Optional[float] = None,
                      topk: Optional[int] = None,
                      return_attention: bool = False,
                      patches: Optional[int] = None,
                      show_dir: Optional[str] = None,
                      per_scale: bool = False) -> None:
        """Check the keyword options of a call (each error names one).

        Raises:
            InferenceInputError, LabelRuleError: A value out of its range.
            InferenceTypeError: An option the model cannot honour.
        """
        self.selection(thr, topk)
        capabilities = model_capabilities(self.model)
        check_attention(return_attention, type(self.model.head).__name__,
                        capabilities.attention)
        check_patches(patches, type(self.model).__name__,
                      capabilities.patches)
        check_show_dir(show_dir)
        check_flag('per_scale', per_scale)

    def _dispatch_kwargs(self, **kwargs):
        known = (self.preprocess_kwargs | self.forward_kwargs
                 | self.visualize_kwargs | self.postprocess_kwargs)
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise InferenceTypeError(
                f'unknown option {", ".join(unknown)}: MultiLabelInferencer '
                'takes return_datasamples, batch_size, '
                f'{", ".join(sorted(known))}')
        return super()._dispatch_kwargs(**kwargs)

    def selection(self, thr: Optional[float] = None,
                  topk: Optional[int] = None) -> LabelRule:
        """The label rule: the call's, else the constructor's, else the
        head's (its ``thr`` first, as mmpretrain's heads decide), checked.
        """
        if (thr, topk) != (None, None):
            return check_label_rule(thr, topk, self.num_classes)
        return self.default_rule or head_label_rule(self.model.head)

    def num_patches(self, patches: Optional[int],
                    show_dir: Optional[str]) -> int:
        """How many labels' best patches to report: ``patches``, else 5 for
        a model that reports patches with ``show_dir``, else 0."""
        capable = model_capabilities(self.model).patches
        patches = check_patches(patches, type(self.model).__name__, capable)
        if patches is None:
            return 5 if capable and show_dir is not None else 0
        return patches

    # ----------------------------------------------------------- preprocess
    def preprocess(self, inputs: List[InputType], batch_size: int = 1):
        """Read, check and transform each input; yield collated batches.

        Each sample's metainfo gets ``image`` (the path, or the index of an
        array) and ``name`` (its unique figure name).
        """
        names = unique_names(inputs)

        def prepare(index: int) -> dict:
            source, image = load_input(inputs[index], index, self.max_pixels)
            packed = transform_input(
                self.pipeline, dict(img=image, img_shape=image.shape[:2],
                                    ori_shape=image.shape[:2]), source,
                self.config.filename)
            packed['data_samples'].set_metainfo(
                dict(image=source, name=names[index]))
            return packed

        chunks = self._get_chunk_data(map(prepare, range(len(inputs))),
                                      batch_size)
        for chunk in chunks:
            yield collate_batch(chunk, self.config.filename)

    # -------------------------------------------------------------- forward
    @torch.no_grad()
    def forward(self,
                data: dict,
                thr: Optional[float] = None,
                topk: Optional[int] = None,
                return_attention: bool = False,
                patches: Optional[int] = None,
                show_dir: Optional[str] = None) -> List[DataSample]:
        """``model.test_step`` (= ``predict``), then the label selection.

        When attention maps are wanted (``return_attention``, or a figure of
        an attention head) the same predictions come from the features
        (``extract_feat`` then ``head.predict``, as ``ImageClassifier``
        predicts) and each sample also gets ``attention`` (one (N, ...) map
        per scale); when patches are wanted (:meth:`num_patches`) each
        sample also gets ``patches``
        (:func:`~mmcma.apis.patches.best_patch_per_label`). Both add
        ``input_image`` (the RGB uint8 image the model saw).
        """
        rule = self.selection(thr, topk)
        capabilities = model_capabilities(self.model)
        attention = check_attention(
            return_attention, type(self.model.head).__name__,
            capabilities.attention) or (show_dir is not None
                                        and capabilities.attention)
        num_patches = self.num_patches(patches, show_dir)
        if attention or num_patches:
            preds = predict_with_figures(self.model, data, attention,
                                         num_patches)
        else:
            preds = self.model.test_step(data)
        for pred in preds:
            pred.set_pred_label(select_labels(pred.pred_score, **rule))
        return preds

    # ------------------------------------------------------------ visualize
    def visualize(self,
                  ori_inputs: Sequence[InputType],
                  preds: List[DataSample],
                  show_dir: Optional[str] = None,
                  per_scale: bool = False,
                  thr: Optional[float] = None,
                  topk: Optional[int] = None) -> Optional[List[str]]:
        """Write one figure per prediction to ``show_dir`` (and send it to
        the visualizer's backends); return their paths (None without
        ``show_dir``): :meth:`AttentionVisualizer.add_datasample` draws the
        best patches or the attention over the image the model saw, else
        the original image (RGB) and its best labels."""
        show_dir = check_show_dir(show_dir)
        if show_dir is None:
            return None
        os.makedirs(show_dir, exist_ok=True)
        line = self.selection(thr, topk).get('thr')
        written = []
        for source, pred in zip(ori_inputs, preds):
            _, image = load_input(source, pred.image, self.max_pixels)
            out_file = osp.join(show_dir, f'{pred.name}.png')
            self.visualizer.add_datasample(
                pred.name, np.ascontiguousarray(image[..., ::-1]), pred,
                self.label_names(len(pred.pred_score)), per_scale=per_scale,
                thr=line, out_file=out_file)
            written.append(out_file)
        return written

    # ---------------------------------------------------------- postprocess
    def postprocess(self,
                    preds: List[DataSample],
                    visualization: Optional[List[str]] = None,
                    return_datasamples: bool = False,
                    return_attention: bool = False) -> list:
        """Result dicts (see the class docstring), or the samples."""
        if return_datasamples:
            return preds
        results = []
        for i, pred in enumerate(preds):
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
            if visualization:
                result['figure'] = visualization[i]
            results.append(result)
        return results

    def label_names(self, num_classes: int) -> List[str]:
        """Class names for ``num_classes`` scores (checked once)."""
        if getattr(self, '_names', None) is None:
            self._names = class_names(self.model, num_classes, self.classes)
        return self._names

