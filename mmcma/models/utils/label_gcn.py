"""The label GCN of ML-GCN and KSSNet: every layer's label embeddings.

``E^(l+1) = LeakyReLU_0.2(A E^(l) W^(l))`` from the label vectors ``E^(0)``
over the label graph ``A``, no bias, no activation after the last layer: its
output ``E^(L)`` is the classifier matrix, whose entries take either sign.
ML-GCN ("Multi-Label Image Recognition with Graph Convolutional Networks")
has two layers (D_in -> 1024 -> 2048 for ResNet-101) over its statistical
graph, as its released ``GraphConvolution``; KSSNet ("Multi-Label
Classification with Label Graph Superimposing", eq. 6) four (256, 512, 1024,
2048) over the KS graph, whose hidden outputs also enter the CNN through
lateral connections
(:class:`~mmcma.models.backbones.LateralGCNBackbone`).
"""
from typing import List, Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..label_state import LabelStateMixin
from ...labels.adjacency import propagation_graph
from .gcn import (check_normalize, gcn_layers, gcn_weights,
                  label_graph_adjacency, sparse_adjacency, use_sparse)

#: How the GCN weights start: ML-GCN's U(-1/sqrt(out), 1/sqrt(out)), or He
#: et al. 2015 for LeakyReLU (what the KSSNet paper states for Charades;
#: docs/kssnet.md compares them).
GCN_INITS = ('uniform', 'kaiming')


class LabelGCN(BaseModule, LabelStateMixin):
    """A stack of graph convolutions over the label graph.

    Declares the label state ``'embedding'`` E^(0) (N, ``embed_dim``), e.g.
    GloVe vectors of the class names (``LabelStateHook(embedding=dict(
    type='glove'))``), and ``'graph'`` (N, N). ML-GCN's GCN is
    ``channels=(1024, C)``, KSSNet's ``(256, 512, 1024, C)``.

    Args:
        num_classes (int): Labels N.
        embed_dim (int): Size of E^(0). Defaults to 300 (the paper's GloVe).
        channels (Sequence[int]): Output size of each layer; the last is
            the classifiers' size (the backbone's final channels). Defaults
            to ``(256, 512, 1024, 2048)`` (ResNet-101).
        negative_slope (float): LeakyReLU slope. Defaults to 0.2.
        normalize (str, optional): How the GCN normalises the graph: None
            (default) uses a graph that is already normalised (the final KS
            graph A'_KS) as it is and gives a raw ML-GCN graph ML-GCN's
            ``gen_adj``; a value that contradicts the normalisation the
            graph carries is an error (:func:`mmcma.labels.propagation_graph`).
        init (str): One of :data:`GCN_INITS`. Defaults to ``'uniform'``.
        sparse (bool, optional): Propagate over a sparse COO graph
            (``torch.sparse.mm``): True, False, or None (default) to decide
            by the filled graph's size and density
            (:func:`~mmcma.models.utils.gcn.use_sparse`: only graphs of
            1,024 labels or more, so the papers' and demo's GCNs stay
            dense). With sparse storage (True, or None from 1,024 labels)
            the module's buffers and checkpoints hold only the graph's
            non-zero entries when it is sparse by the same rule
            (:mod:`mmcma.models.sparse_label_graph`); otherwise the
            buffer is the dense graph and the sparse one is made once per
            filled (or loaded) graph.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 embed_dim: int = 300,
                 channels: Sequence[int] = (256, 512, 1024, 2048),
                 negative_slope: float = 0.2,
                 normalize: Optional[str] = None,
                 init: str = 'uniform',
                 sparse: Optional[bool] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        check_normalize(normalize, 'LabelGCN')
        if init not in GCN_INITS:
            raise ValueError(f'init must be one of {GCN_INITS}, got {init!r}')
        if num_classes <= 0:
            raise ValueError(f'num_classes must be positive, got '
                             f'{num_classes}')
        self.num_classes = num_classes
        self.channels = tuple(int(c) for c in channels)
        self.negative_slope = negative_slope
        self.normalize = normalize
        self.sparse = sparse
        self._sparse_cache = None
        self.gcn_weights = gcn_weights([embed_dim, *self.channels])
        if init == 'kaiming':
            for weight in self.gcn_weights:
                # W is (in, out) and used as E W: its transpose is laid out
                # as torch's (fan_out, fan_in).
                nn.init.kaiming_uniform_(weight.t(), a=negative_slope,
                                         nonlinearity='leaky_relu')
        self.declare_label_state('embedding', (num_classes, embed_dim))
        # Checks ``sparse``; from 1,024 labels (or sparse=True) only the
        # graph's non-zero entries are buffers (and checkpoint entries).
        self.declare_label_state('graph', (num_classes, num_classes),
                                 sparse=sparse)

    def adjacency(self) -> Tensor:
        """The graph the GCN propagates over, (N, N): dense, or sparse COO
        when the graph is sparse (``sparse``; never while tracing, e.g. for
        ONNX export)."""
        graph = self.label_state('graph')
        if torch.jit.is_tracing():
            graph = graph.to_dense() if graph.is_sparse else graph
            return propagation_graph(graph, self.graph_normalization(),
                                     self.normalize)
        if self.sparse is False:
            return label_graph_adjacency(self, self.normalize)
        entries = graph.values() if graph.is_sparse else graph
        # The buffers' address and version change when they are filled,
        # loaded or moved; the normalisation code when refilled. The cache
        # keeps the graph alive, so its address is not reused meanwhile.
        stamp = (entries.data_ptr(), entries._version, entries.device,
                 graph.layout, int(self.label_graph_normalization))
        if self._sparse_cache is None or self._sparse_cache[0] != stamp:
            if graph.is_sparse:  # stored sparse: normalised sparse
                adjacency = label_graph_adjacency(self, self.normalize)
            else:
                dense = label_graph_adjacency(self, self.normalize)
                adjacency = sparse_adjacency(dense) \
                    if use_sparse(dense, self.sparse) else None
            self._sparse_cache = (stamp, adjacency, graph)
        cached = self._sparse_cache[1]
        return label_graph_adjacency(self, self.normalize) \
            if cached is None else cached

    def forward(self) -> List[Tensor]:
        """``E^(1) .. E^(L)``, (N, channels[l]) each."""
        return gcn_layers(self.label_state('embedding'), self.adjacency(),
                          list(self.gcn_weights), self.negative_slope)

    def extra_repr(self) -> str:
        sizes = [self.gcn_weights[0].size(0), *self.channels]
        return (f'num_classes={self.num_classes}, gcn={sizes}, '
                f'normalize={self.normalize!r}, sparse={self.sparse!r}')
