"""Any registered backbone with a label GCN and lateral connections.

The CNN side of the GCN family: ML-GCN ("Multi-Label Image Recognition with
Graph Convolutional Networks") is a backbone with a label GCN and no lateral
connection, KSSNet ("Multi-Label Classification with Label Graph
Superimposing") the same with a deeper GCN whose hidden outputs enter named
stages; both classify with :class:`~mmcma.models.heads.GCNClsHead`.

:class:`LateralGCNBackbone` wraps a backbone without changing it: for each
forward it runs the label GCN once, registers a forward hook on each named
stage module that adds the lateral connection (eq. 7) to the stage's output,
runs the backbone, and removes the hooks again. The hooks live only inside
that call, so nothing of them reaches ``state_dict``, ``copy.deepcopy``,
pickling or a second forward; the backbone's parameters keep their names
(``backbone.backbone.layer1...``), so ImageNet checkpoints load as they are.

Stages are module names of the wrapped backbone (``named_modules``):
``layer1`` .. ``layer4`` for mmpretrain's ResNet / ResNeXt / ResNet-D (res2 ..
res5 in the paper's words), ``layers.0`` .. ``layers.3`` for
:class:`~mmcma.models.backbones.SNet`, ``stages.0``.. for ConvNeXt,
``features.3`` .. for others; any module whose output is one feature map
(B, C, *positions) works. The k-th stage listed gets the k-th GCN layer's
embeddings ``E^(k)``, whose width must be that stage's channels.
"""
import contextlib
from typing import Iterator, Sequence, Tuple, Union

from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ..utils import GCNFeature, LabelGCN, MaskedFeature, as_masked_feature
from .lateral_connection import LateralConnection


def check_stages(backbone: nn.Module, stages: Sequence[str],
                 num_layers: int) -> None:
    """Raise a clear error unless ``stages`` name distinct modules of
    ``backbone``, at most one per GCN layer.

    Raises:
        ValueError: An unknown or repeated name (the message lists the
            backbone's top-level modules), or more stages than layers.
    """
    modules = dict(backbone.named_modules())
    name = type(backbone).__name__
    for stage in stages:
        if not stage or stage not in modules:
            children = ', '.join(n for n, _ in backbone.named_children())
            raise ValueError(
                f'lateral stage {stage!r} is not a module of {name}. Stages '
                'are module names of the wrapped backbone (dotted paths for '
                f'deeper ones); its top-level modules are: {children}')
    if len(set(stages)) != len(stages):
        raise ValueError(f'lateral stages repeat a module: {list(stages)}')
    if len(stages) > num_layers:
        raise ValueError(
            f'{len(stages)} lateral stages {list(stages)} but the GCN has '
            f'{num_layers} layers: the k-th stage takes the k-th layer\'s '
            'embeddings')


@contextlib.contextmanager
def lateral_hooks(backbone: nn.Module, stages: Sequence[str],
                  laterals: Sequence[LateralConnection],
                  embeddings: Sequence[Tensor]) -> Iterator[None]:
    """Add ``laterals[k](output, embeddings[k])`` to the output of module
    ``stages[k]`` while the ``with`` block runs; the hooks are removed on
    leaving it, also after an error.

    Raises (from the forward inside the block):
        TypeError: A stage's output is not one Tensor.
        ValueError: A stage's channels differ from its embeddings' width.
    """
    handles = []

    def make_hook(k: int, stage: str):

        def hook(module: nn.Module, args, output):
            if not isinstance(output, Tensor) or output.dim() < 3:
                raise TypeError(
                    f'lateral stage {stage!r} ({type(module).__name__}) '
                    'must output one feature map (B, C, *positions), got '
                    f'{_describe(output)}: name a module that does')
            width = embeddings[k].size(1)
            if output.size(1) != width:
                raise ValueError(
                    f'lateral stage {stage!r} outputs {output.size(1)} '
                    f'channels but GCN layer {k + 1} gives {width}-d label '
                    f'embeddings: set gcn channels[{k}] = {output.size(1)} '
                    '(the k-th stage takes the k-th GCN layer)')
            return laterals[k](output, embeddings[k])

        return hook

    try:
        for k, stage in enumerate(stages):
            module = backbone.get_submodule(stage)
            handles.append(module.register_forward_hook(make_hook(k, stage)))
        yield
    finally:
        for handle in handles:
            handle.remove()


def _describe(value) -> str:
    if isinstance(value, Tensor):
        return f'a Tensor of shape {tuple(value.shape)}'
    return type(value).__name__


@MODELS.register_module()
class LateralGCNBackbone(BaseModule):
    """A backbone, the label GCN and lateral connections (ML-GCN: none).

    Returns the wrapped backbone's outputs as
    :class:`~mmcma.models.utils.GCNFeature` items carrying the GCN's last
    output (the label classifiers, N x C) for
    :class:`~mmcma.models.heads.GCNClsHead`. Extra forward arguments (a
    video backbone's frame mask) go to the wrapped backbone.

    Args:
        backbone (dict): The wrapped backbone's config, e.g.
            ``dict(type='ResNet', depth=101, out_indices=(3, ),
            init_cfg=dict(type='Pretrained', ...))``.
        num_classes (int): Labels N.
        gcn (dict): Options of :class:`~mmcma.models.utils.LabelGCN`
            (``embed_dim``, ``channels``, ``negative_slope``, ``normalize``,
            ``init``).
        stages (Sequence[str]): Modules of the backbone whose outputs get a
            lateral connection, in order: the k-th takes ``E^(k)``.
            Defaults to ``('layer1', 'layer2', 'layer3')`` (KSSNet: res2-res4
            of a ResNet; with four GCN layers ``E^(4)`` is the classifier).
            Empty: no lateral connection (ML-GCN).
        lateral (dict): Options of every
            :class:`~mmcma.models.backbones.LateralConnection`
            (``activation``, ``zero_init``).
        init_cfg (dict, optional): Initialisation config of the wrapper;
            the backbone's own ``init_cfg`` (pretrained weights) is kept.
    """

    def __init__(self,
                 backbone: dict,
                 num_classes: int,
                 gcn: dict = dict(),
                 stages: Sequence[str] = ('layer1', 'layer2', 'layer3'),
                 lateral: dict = dict(),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.gcn = LabelGCN(num_classes, **gcn)
        self.stages = tuple(stages)
        check_stages(self.backbone, self.stages, len(self.gcn.channels))
        self.laterals = nn.ModuleList(
            LateralConnection(num_classes, width, **lateral)
            for width in self.gcn.channels[:len(self.stages)])

    def forward(self, x: Tensor, *args,
                **kwargs) -> Tuple[GCNFeature, ...]:
        """GCN, then the backbone with the lateral connections.

        Args:
            x (Tensor): The backbone's input (images (B, 3, H, W), frame
                features (B, D, T), ...).
            *args, **kwargs: More inputs of the wrapped backbone.

        Returns:
            tuple[GCNFeature]: One per backbone output, each with the label
            classifiers ``E^(L)`` (N, C_L).
        """
        embeddings = self.gcn()
        with lateral_hooks(self.backbone, self.stages, self.laterals,
                           embeddings):
            outs = self.backbone(x, *args, **kwargs)
        return tuple(
            GCNFeature(feat, embeddings[-1], mask)
            for feat, mask in (as_masked_feature(out, type(self).__name__)
                               for out in _as_tuple(outs)))


def _as_tuple(outs: Union[Tensor, MaskedFeature, tuple]) -> tuple:
    return (outs, ) if isinstance(outs, (Tensor, MaskedFeature)) else outs
