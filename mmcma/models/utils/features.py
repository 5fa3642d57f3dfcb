"""Named types of the feature maps that travel between stages.

Spatial maps (B, C, H, W) and sequences (B, C, T) are one case: both may come
with a boolean mask of valid positions (B, H, W) / (B, T) when samples are
padded to a common size (videos of different lengths). Stages hand them on as
named tuples, never as positional ones.
"""
from typing import NamedTuple, Optional, Sequence, Union

from torch import Tensor

#: How to make the usual mmpretrain backbones give maps instead of vectors.
KEEP_THE_MAP = ("ConvNeXt(gap_before_final_norm=False), VisionTransformer "
                "(also DeiT, BEiT; out_type='featmap'); for other backbones "
                "the option that skips their final pooling")


class MaskedFeature(NamedTuple):
    """A backbone output: features and, optionally, their validity mask.

    Attributes:
        feat (Tensor): Features (B, C, H, W) or (B, C, T).
        mask (Tensor, optional): Valid positions (B, H, W) or (B, T), bool;
            None when every position is valid.
    """
    feat: Tensor
    mask: Optional[Tensor] = None


class CMTFeature(NamedTuple):
    """One scale of the CMT neck's output, the CMA head's input.

    Attributes:
        visual (Tensor): Visual features I (B, C, H, W) or (B, C, T).
        projected (Tensor, optional): I projected into the label-embedding
            space, I_s (B, D, H, W) or (B, D, T); None when the neck has no
            projection (``embed_dim=None``, for self-attention).
        mask (Tensor, optional): Valid positions (B, H, W) or (B, T), bool.
    """
    visual: Tensor
    projected: Optional[Tensor]
    mask: Optional[Tensor] = None


class GCNFeature(NamedTuple):
    """A backbone output that carries the label classifiers with it.

    :class:`~mmcma.models.backbones.LateralGCNBackbone` runs its label GCN
    once per forward: the hidden label embeddings go into the CNN through
    the lateral connections (KSSNet), the last ones are the classifiers that
    :class:`~mmcma.models.heads.GCNClsHead` scores the pooled feature with.

    Attributes:
        feat (Tensor): Features (B, C, H, W) or (B, C, T).
        classifiers (Tensor): Label classifiers (N, C), the GCN's output.
        mask (Tensor, optional): Valid positions (B, H, W) or (B, T), bool.
    """
    feat: Tensor
    classifiers: Tensor
    mask: Optional[Tensor] = None


def as_masked_feature(item: Union[Tensor, MaskedFeature],
                      who: str) -> MaskedFeature:
    """Accept a plain tensor or a :class:`MaskedFeature`; reject the rest.

    Args:
        item: A backbone output item.
        who (str): The consumer, named in the error.

    Raises:
        TypeError: ``item`` is neither (e.g. a bare ``(tensor, mask)`` tuple).
    """
    if isinstance(item, MaskedFeature):
        return item
    if isinstance(item, Tensor):
        return MaskedFeature(item)
    raise TypeError(f'{who} expects each backbone output as a Tensor or a '
                    f'MaskedFeature(feat, mask), got {type(item).__name__}')


def feature_problem(shape: Sequence[int],
                    channels: int,
                    who: str,
                    setting: str = 'in_channels',
                    pooled_ok: bool = False) -> Optional[str]:
    """Why a backbone output of ``shape`` does not fit ``who``, or None.

    ``who`` takes maps (B, C, H, W) or sequences (B, C, T) with ``channels``
    channels (and pooled vectors (B, C) with ``pooled_ok``). The message
    names the setting that fixes the usual mistakes: a backbone that pools
    (ConvNeXt's default ``gap_before_final_norm=True``, ViT's default
    ``out_type='cls_token'``), transformer tokens (B, L, C) (ViT's
    ``out_type='raw'``) and an ``in_channels`` that is not the backbone's
    width.

    Args:
        shape (Sequence[int]): Shape of the backbone output.
        channels (int): Channels ``who`` was built for.
        who (str): The consumer, e.g. ``'CMTNeck'``.
        setting (str): The consumer's setting for ``channels``.
        pooled_ok (bool): Whether (B, C) vectors are accepted.
    """
    shape = tuple(shape)
    if len(shape) == 2 and not pooled_ok:
        return (f'{who} expects feature maps (B, C, H, W) or sequences '
                f'(B, C, T), got a pooled vector of shape {shape}: the '
                f'backbone pools its map away. Keep the map: {KEEP_THE_MAP}')
    if len(shape) == 3 and shape[2] == channels != shape[1]:
        return (f'{who} expects {channels} channels first, (B, C, T), got '
                f'{shape}: transformer tokens (B, L, C)? Set '
                "VisionTransformer(out_type='featmap') for a (B, C, H, W) "
                'map')
    if len(shape) not in (2, 3, 4):
        return (f'{who} expects (B, C, H, W) maps or (B, C, T) sequences, '
                f'got shape {shape}')
    if shape[1] != channels:
        return (f'{who} expects {channels} feature channels, got shape '
                f'{shape}: set '
                f'{who} {setting} to the width of the backbone outputs it '
                'takes (its out_indices; e.g. ResNet-50/101 stage 3: 1024, '
                'stage 4: 2048)')
    return None
