"""Cross-modality attention (CMA) head, eq. 7-10 of *Cross-Modality Attention
with Semantic Graph Embedding for Multi-Label Classification* (MS-CMA, AAAI 2020).

The tensor math lives in module-level functions; :class:`CMABranch` holds the
parameters of one scale and :class:`CMAHead` adds the mmpretrain plumbing
(label embeddings, loss, predictions). :class:`MSCMAHead` reuses all of it
with one branch per scale.
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmpretrain.models.heads import MultiLabelClsHead
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ..capabilities import ShowsAttention
from ..label_state import LabelStateMixin
from ..losses.weighted_bce import sized_loss_config
from ..utils import CMTFeature
from .cma_fused import chunked_cosine_logits
from .cma_scores import CosineAttention
from .cma_scores import cosine_attention_scores  # noqa: F401  (re-export)


def normalize_attention(z: Tensor, mask: Optional[Tensor] = None) -> Tensor:
    """Normalise non-negative scores over positions (eq. 8).

    ``a_k^i = z_k^i / sum_i z_k^i``. Masked positions are set to 0 before
    the sum, so they get no attention and do not change the attention over
    valid positions. A row whose scores are all zero (every cosine <= 0, or
    every position masked) has nothing to attend to and yields all zeros
    (instead of 0/0); its pooled feature is then 0 and its logit the bias.

    Args:
        z (Tensor): Non-negative scores, shape (B, N, M).
        mask (Tensor, optional): Valid positions, bool (B, M).

    Returns:
        Tensor: Attention of shape (B, N, M); each row sums to 1 or is 0.
    """
    if mask is not None:
        z = z.masked_fill(~mask.bool().unsqueeze(1), 0)
    total = z.sum(dim=-1, keepdim=True)
    # Dividing by 1 where the total is 0 keeps values and gradients finite.
    return z / torch.where(total > 0, total, torch.ones_like(total))


def class_wise_pooling(attention: Tensor, visual: Tensor) -> Tensor:
    """Label-specific features ``h_k = sum_i a_k^i I^i`` (eq. 9).

    Args:
        attention (Tensor): Attention a, shape (B, N, M).
        visual (Tensor): Visual features I (not the projected I_s),
            shape (B, C, M).

    Returns:
        Tensor: Class-wise features of shape (B, N, C).
    """
    return torch.matmul(attention, visual.transpose(1, 2))


def class_wise_logits(features: Tensor, weight: Tensor,
                      bias: Tensor) -> Tensor:
    """Per-label linear classifiers ``w_k^T h_k + b_k`` (eq. 10, pre-sigmoid).

    Args:
        features (Tensor): Class-wise features h, shape (B, N, C).
        weight (Tensor): One weight vector per label, shape (N, C).
        bias (Tensor): One bias per label, shape (N,).

    Returns:
        Tensor: Logits of shape (B, N).
    """
    return torch.einsum('bnc,nc->bn', features, weight) + bias


#: A head with at least this many labels computes eq. 9-10 with
#: :func:`attended_logits` (the same logits; memory (B, N, M) instead of
#: (B, N, C)), and eq. 7-10 of ReLU cosine scores with
#: :func:`~mmcma.models.heads.cma_fused.chunked_cosine_logits` (one autograd
#: node, chunked over labels); below it, today's :func:`class_wise_pooling`
#: then :func:`class_wise_logits`, so the papers' and the demo's numbers stay.
FUSED_MIN_LABELS = 1024


def attended_logits(attention: Tensor, visual: Tensor, weight: Tensor,
                    bias: Tensor) -> Tensor:
    """Eq. 9-10 in one product: ``w_k^T (sum_i a_k^i I^i) + b_k`` taken as
    ``sum_i a_k^i (w_k^T I^i) + b_k``.

    Equal to ``class_wise_logits(class_wise_pooling(attention, visual),
    weight, bias)`` up to float rounding, without the class-wise features
    (B, N, C): the intermediate is (B, N, M), smaller when the positions M
    are fewer than the channels C.

    Args:
        attention (Tensor): a, (B, N, M).
        visual (Tensor): I, (B, C, M).
        weight (Tensor): (N, C).
        bias (Tensor): (N,).

    Returns:
        Tensor: Logits (B, N).
    """
    return torch.einsum('bnm,bnm->bn', attention,
                        torch.matmul(weight, visual)) + bias


class SelfAttention(nn.Module):
    """Ablation scores ``sigmoid(conv1x1(I))``: no label embeddings used.

    Args:
        in_channels (int): Channels C of the visual features.
        num_classes (int): Number of labels N.
    """

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, num_classes, kernel_size=1)

    def forward(self, visual: Tensor, projected: Tensor,
                embeddings: Optional[Tensor]) -> Tensor:
        """Return scores (B, N, M) from ``visual`` (B, C, M)."""
        return torch.sigmoid(self.conv(visual))


#: Attention kinds of :class:`CMABranch` and whether they need embeddings.
ATTENTION_NEEDS_EMBEDDING = {'cosine': True, 'self': False}


class CMABranch(BaseModule):
    """Attention, class-wise pooling and classifiers of one scale.

    Args:
        num_classes (int): Number of labels N.
        in_channels (int): Channels C of the visual features I.
        attention (str): ``'cosine'`` (eq. 7) or ``'self'`` (ablation).
        init_std (float): Std of the normal init of the classifier weights.
        score (str): Cosine scores, ``'relu'`` (eq. 7) or ``'softmax'``
            (:class:`CosineAttention`); ``'self'`` takes ``'relu'`` only.
        temperature (float): Initial softmax temperature.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 attention: str = 'cosine',
                 init_std: float = 0.01,
                 score: str = 'relu',
                 temperature: float = 0.1):
        super().__init__()
        if attention not in ATTENTION_NEEDS_EMBEDDING:
            raise ValueError(f'attention must be one of '
                             f'{sorted(ATTENTION_NEEDS_EMBEDDING)}, '
                             f'got {attention!r}.')
        if attention == 'self' and score != 'relu':
            raise ValueError(f"score={score!r} applies to attention='cosine'"
                             "; self-attention has its own sigmoid scores.")
        self.in_channels = in_channels
        self.attention_scores = (CosineAttention(score, temperature)
                                 if attention == 'cosine' else SelfAttention(
                                     in_channels, num_classes))
        self.weight = nn.Parameter(
            torch.randn(num_classes, in_channels) * init_std)
        self.bias = nn.Parameter(torch.zeros(num_classes))

    def _check_inputs(self, visual: Tensor, projected: Optional[Tensor],
                      embeddings: Optional[Tensor]) -> None:
        if visual.size(1) != self.in_channels:
            raise ValueError(
                f'CMA branch expects {self.in_channels} visual channels, got '
                f'{visual.size(1)}: set the head in_channels to the '
                "neck's reduced_channels (CMTNeck's visual features).")
        if embeddings is not None and projected.size(1) != embeddings.size(1):
            raise ValueError(
                f'Projected features have {projected.size(1)} channels but '
                f'the label embeddings have {embeddings.size(1)}: set '
                'CMTNeck embed_dim to the head embed_dim.')

    def attend(self, visual: Tensor, projected: Tensor, mask: Optional[Tensor],
               embeddings: Optional[Tensor]) -> Tensor:
        """Attention a (B, N, M) over the M positions (eq. 7-8)."""
        self._check_inputs(visual, projected, embeddings)
        return normalize_attention(
            self.attention_scores(visual, projected, embeddings), mask)

    def _fusable(self, visual: Tensor) -> bool:
        """Whether :meth:`large_logits` takes the chunked node: ReLU cosine
        scores (eq. 7), outside tracing, export and autocast (the node
        computes in the inputs' dtype)."""
        return (isinstance(self.attention_scores, CosineAttention)
                and self.attention_scores.score == 'relu'
                and not torch.jit.is_tracing()
                and not torch.onnx.is_in_onnx_export()
                and not torch.is_autocast_enabled(visual.device.type))

    def large_logits(self, visual: Tensor, projected: Optional[Tensor],
                     mask: Optional[Tensor],
                     embeddings: Optional[Tensor]) -> Tensor:
        """Logits (B, N) of eq. 7-10 in the large-label forms: for ReLU
        cosine scores :func:`chunked_cosine_logits`, otherwise the attention
        then :func:`attended_logits`; ``visual`` (B, C, M), ``projected``
        (B, D, M), ``mask`` (B, M), ``embeddings`` (N, D)."""
        if not self._fusable(visual):
            return attended_logits(
                self.attend(visual, projected, mask, embeddings), visual,
                self.weight, self.bias)
        self._check_inputs(visual, projected, embeddings)
        return chunked_cosine_logits(projected, embeddings, visual,
                                     self.weight, self.bias, mask)

    def classify(self, features: Tensor) -> Tensor:
        """Logits (B, N) from class-wise features (B, N, C) (eq. 10)."""
        return class_wise_logits(features, self.weight, self.bias)

    def extra_repr(self) -> str:
        num_classes, in_channels = self.weight.shape
        return f'num_classes={num_classes}, in_channels={in_channels}'


class ScaleInput(NamedTuple):
    """One scale of neck output, flattened to positions."""
    visual: Tensor  # (B, C, M)
    projected: Optional[Tensor]  # (B, D, M), None without projection
    mask: Optional[Tensor]  # (B, M) bool or None
    spatial: torch.Size  # (H, W) or (T,)


@MODELS.register_module()
class CMAHead(MultiLabelClsHead, LabelStateMixin, ShowsAttention):
    """Cross-modality attention head (single scale).

    Consumes the last :class:`~mmcma.models.utils.CMTFeature` of the
    :class:`~mmcma.models.necks.CMTNeck` output (``visual``, ``projected``,
    ``mask``), with maps (B, C, H, W) or sequences (B, C, T). For each label k it attends
    over positions with the label embedding e_k (eq. 7-8), pools the visual
    features (eq. 9) and applies the label's own linear classifier (eq. 10).
    ``forward`` returns logits, which the loss gets too.

    With ``attention='cosine'`` the head declares label embeddings
    (N, embed_dim) as label state (:class:`~mmcma.models.LabelStateMixin`,
    buffer ``label_embedding``), filled by ``LabelStateHook`` or
    :func:`mmcma.fill_label_state`; using the head before they are filled
    raises. ``attention='self'`` declares nothing and needs no projection
    from the neck (``CMTNeck(embed_dim=None)``).

    Args:
        num_classes (int): Number of labels N.
        in_channels (int): Channels C of the visual features.
        embed_dim (int): Label-embedding dimension (channels of I_s).
            Defaults to 256.
        attention (str): ``'cosine'`` (CMA) or ``'self'`` (ablation).
            Defaults to ``'cosine'``.
        score (str): How cosine attention turns cosines into attention:
            ``'relu'`` (eq. 7-8, the paper; default) or ``'softmax'`` over
            positions with a learnable temperature, which never leaves a
            label without attention and can sharpen it
            (``docs/benchmarks_heads_real.md`` has the ablation).
        temperature (float): Initial temperature of ``score='softmax'``.
            Defaults to 0.1.
        loss (dict): Loss config. Defaults to
            ``dict(type='ClassImbalanceBCELoss')`` (beta 0: plain BCE).
        thr (float, optional): Score threshold of positive predictions.
        topk (int, optional): Predict the k best labels as positive. If
            neither ``thr`` nor ``topk`` is set, ``thr=0.5``.
        init_cfg (dict, optional): Initialisation config. Defaults to None
            (classifier weights ~ N(0, 0.01^2), biases 0).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 embed_dim: int = 256,
                 attention: str = 'cosine',
                 score: str = 'relu',
                 temperature: float = 0.1,
                 loss: Dict = dict(type='ClassImbalanceBCELoss'),
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(loss=sized_loss_config(loss, num_classes), thr=thr,
                         topk=topk, init_cfg=init_cfg)
        if num_classes <= 0:
            raise ValueError(f'num_classes must be positive, got '
                             f'{num_classes}.')
        self.num_classes = num_classes
        self.embed_dim = embed_dim
        self.attention = attention
        self.branches = nn.ModuleList(
            CMABranch(num_classes, c, attention, score=score,
                      temperature=temperature)
            for c in self._branch_channels(in_channels))
        if ATTENTION_NEEDS_EMBEDDING[attention]:
            self.declare_label_state('embedding', (num_classes, embed_dim))

    @staticmethod
    def _branch_channels(in_channels: int) -> List[int]:
        """Visual channels of each branch."""
        if not isinstance(in_channels, int):
            raise TypeError('CMAHead is single-scale: in_channels must be an '
                            f'int, got {in_channels!r}; use MSCMAHead for '
                            'several scales.')
        return [in_channels]

    def _embeddings(self) -> Optional[Tensor]:
        """The label embeddings (N, D), or None if the attention needs none.
        """
        if not ATTENTION_NEEDS_EMBEDDING[self.attention]:
            return None
        return self.label_state('embedding')

    def _scale_inputs(self, feats: Sequence[CMTFeature]) -> List[ScaleInput]:
        """Flatten the last ``len(branches)`` neck outputs to (B, C, M)."""
        num = len(self.branches)
        name = type(self).__name__
        if isinstance(feats, (Tensor, CMTFeature)) or not isinstance(
                feats, (tuple, list)) or not all(
                    isinstance(f, CMTFeature) for f in feats):
            raise TypeError(f'{name} expects the tuple of CMTFeature that '
                            'CMTNeck returns (put CMTNeck before it), got '
                            f'{type(feats).__name__}')
        if len(feats) < num:
            raise ValueError(
                f'{name} needs {num} scales from the neck, got {len(feats)}: '
                'give CMTNeck one in_channels per backbone output (the '
                'backbone out_indices) and extra_stage for one more scale.')
        scales = []
        for visual, projected, mask in feats[len(feats) - num:]:
            spatial = visual.shape[2:]
            if projected is None:
                if ATTENTION_NEEDS_EMBEDDING[self.attention]:
                    raise ValueError(
                        f'{name}(attention={self.attention!r}) needs the '
                        "neck's projection into the embedding space: set "
                        'CMTNeck embed_dim (not None)')
            elif projected.shape[2:] != spatial:
                raise ValueError(f'visual {tuple(visual.shape)} and projected '
                                 f'{tuple(projected.shape)} positions differ.')
            if mask is not None:
                if mask.shape[1:] != spatial:
                    raise ValueError(f'mask {tuple(mask.shape)} does not '
                                     f'match features {tuple(visual.shape)}.')
                mask = mask.flatten(1)
            scales.append(
                ScaleInput(visual.flatten(2),
                           None if projected is None else projected.flatten(2),
                           mask, spatial))
        return scales

    def _attend(
            self,
            feats: Sequence[CMTFeature]) -> List[Tuple[Tensor, ScaleInput]]:
        """Attention (B, N, M) and its scale input, per branch."""
        embeddings = self._embeddings()
        return [(branch.attend(s.visual, s.projected, s.mask, embeddings), s)
                for branch, s in zip(self.branches, self._scale_inputs(feats))]

    def get_attention(self, feats: Sequence[CMTFeature]) -> List[Tensor]:
        """Normalised attention a (eq. 8), one tensor per scale (a list of
        one for :class:`CMAHead`), each (B, N, H_l, W_l) or (B, N, T_l)."""
        return [a.unflatten(-1, s.spatial) for a, s in self._attend(feats)]

    def pre_logits(self, feats: Sequence[CMTFeature]) -> Tuple[Tensor, ...]:
        """Class-wise pooled features h (B, N, C_l), one per scale (eq. 9)."""
        return tuple(
            class_wise_pooling(a, s.visual) for a, s in self._attend(feats))

    def branch_logits(self, feats: Sequence[CMTFeature]) -> List[Tensor]:
        """Logits (B, N) of every branch (eq. 10 before the sigmoid); from
        :data:`FUSED_MIN_LABELS` labels on, through
        :meth:`CMABranch.large_logits`.
        """
        if self.num_classes >= FUSED_MIN_LABELS:
            embeddings = self._embeddings()
            return [
                branch.large_logits(s.visual, s.projected, s.mask, embeddings)
                for branch, s in zip(self.branches, self._scale_inputs(feats))
            ]
        return [
            branch.classify(h)
            for branch, h in zip(self.branches, self.pre_logits(feats))
        ]

    def forward(self, feats: Sequence[CMTFeature]) -> Tensor:
        """Logits (B, N)."""
        return self.branch_logits(feats)[0]
