# Demo baseline: the MS-CMA demo's narrow ResNet-18 (same strides, same
# schedule) with global average pooling and a linear multi-label head.
_base_ = ['./mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py']

model = dict(
    backbone=dict(out_indices=(3, )),
    neck=dict(_delete_=True, type='GlobalAveragePooling'),
    head=dict(
        _delete_=True,
        type='MultiLabelLinearClsHead',
        num_classes=12,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True)),
)
custom_hooks = []
