"""Classifier and data preprocessor for variable-length frame features."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseDataPreprocessor
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence

from ..capabilities import FEATURE_INPUT, InputKind


def pad_sequences(sequences: Sequence[Tensor],
                  pad_value: float = 0.0) -> Tuple[Tensor, Tensor]:
    """Pad frame features (T_i, D) with torch's ``pad_sequence``; add the mask.

    Args:
        sequences (Sequence[Tensor]): B tensors of shape (T_i, D), T_i >= 1.
        pad_value (float): Value of the padded steps. Defaults to 0.

    Returns:
        tuple: Features (B, D, T_max), channels first as Conv1d expects,
        and the bool mask (B, T_max) of valid steps.
    """
    if len(sequences) == 0:
        raise ValueError('Cannot pad an empty batch.')
    dims = {s.shape[1] if s.dim() == 2 else None for s in sequences}
    if None in dims or len(dims) != 1:
        raise ValueError('Expected (T, D) frame features with one D, got '
                         f'shapes {[tuple(s.shape) for s in sequences]}.')
    lengths = torch.tensor([len(s) for s in sequences])
    if (lengths < 1).any():
        raise ValueError('Every video needs at least one frame.')
    batch = pad_sequence(
        list(sequences), batch_first=True, padding_value=pad_value)
    mask = torch.arange(batch.shape[1]) < lengths[:, None]
    return batch.transpose(1, 2).contiguous(), mask.to(batch.device)


@MODELS.register_module()
class FrameFeaturePreprocessor(BaseDataPreprocessor):
    """Batch variable-length frame features and build the frame mask.

    Accepts ``inputs`` as a list of (T_i, D) tensors (from
    ``pseudo_collate``, the runner's default ``collate_fn``; stacking
    collates cannot batch different lengths) or one (B, T, D) tensor whose
    frames are all valid.

    Returns ``dict(inputs=(B, D, T), mask=(B, T) bool, data_samples=...)``;
    :class:`VideoClassifier` passes the mask to its backbone.

    Args:
        pad_value (float): Value of padded frames. Defaults to 0.
        non_blocking (bool): Non-blocking device transfer.
            Defaults to False.
    """

    def __init__(self, pad_value: float = 0.0, non_blocking: bool = False):
        super().__init__(non_blocking=non_blocking)
        self.pad_value = pad_value

    def forward(self, data: dict, training: bool = False) -> dict:
        """Pad, move to the device and build the mask."""
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, Tensor):
            if inputs.dim() != 3:
                raise ValueError('Stacked inputs must be (B, T, D), got '
                                 f'{tuple(inputs.shape)}.')
            feats = inputs.float().transpose(1, 2).contiguous()
            mask = feats.new_ones(feats.shape[0], feats.shape[2], dtype=bool)
        else:
            feats, mask = pad_sequences([x.float() for x in inputs],
                                        self.pad_value)
        return dict(
            inputs=feats, mask=mask, data_samples=data.get('data_samples'))


@MODELS.register_module()
class VideoClassifier(ImageClassifier, InputKind):
    """An :class:`ImageClassifier` whose backbone takes a frame mask.

    The backbone is called as ``backbone(inputs, mask)`` (e.g.
    :class:`~mmcma.models.backbones.SNet`, which returns ``(features, mask)``
    items that the neck and head carry on); everything else is the image
    classifier's.

    Args:
        backbone (dict): Backbone accepting ``(x (B, D, T), mask (B, T))``.
        neck (dict, optional): Neck config. Defaults to None.
        head (dict, optional): Head config. Defaults to None.
        pretrained (str, optional): Checkpoint to initialise from.
        data_preprocessor (dict | nn.Module, optional): Defaults to
            :class:`FrameFeaturePreprocessor`.
        init_cfg (dict, optional): Initialisation config.
    """

    input_kind = FEATURE_INPUT

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Union[dict, nn.Module, None] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None or isinstance(data_preprocessor, dict):
            cfg = dict(type='FrameFeaturePreprocessor')
            cfg.update(data_preprocessor or {})
            data_preprocessor = MODELS.build(cfg)
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor',
                mask: Optional[Tensor] = None):
        """``tensor`` / ``loss`` / ``predict`` forward, as in mmpretrain.

        Args:
            inputs (Tensor): Frame features (B, D, T).
            data_samples (list[DataSample], optional): Annotations.
            mode (str): ``'tensor'``, ``'loss'`` or ``'predict'``.
            mask (Tensor, optional): Valid frames (B, T), bool.
        """
        if mode == 'tensor':
            feats = self.extract_feat(inputs, mask=mask)
            return self.head(feats) if self.with_head else feats
        if mode == 'loss':
            return self.loss(inputs, data_samples, mask=mask)
        if mode == 'predict':
            return self.predict(inputs, data_samples, mask=mask)
        raise RuntimeError(f'Invalid mode "{mode}".')

    def extract_feat(self,
                     inputs: Tensor,
                     stage: str = 'neck',
                     mask: Optional[Tensor] = None):
        """Features after ``stage`` (``'backbone'``, ``'neck'`` or
        ``'pre_logits'``) for frame features (B, D, T) and their mask."""
        if stage not in ('backbone', 'neck', 'pre_logits'):
            raise ValueError(f'Invalid stage "{stage}".')
        x = self.backbone(inputs, mask)
        if stage == 'backbone':
            return x
        if self.with_neck:
            x = self.neck(x)
        if stage == 'neck':
            return x
        return self.head.pre_logits(x)

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mask: Optional[Tensor] = None) -> dict:
        """Losses of a batch."""
        return self.head.loss(self.extract_feat(inputs, mask=mask),
                              data_samples)

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mask: Optional[Tensor] = None,
                **kwargs) -> List[DataSample]:
        """Predictions of a batch, as data samples."""
        return self.head.predict(
            self.extract_feat(inputs, mask=mask), data_samples, **kwargs)
