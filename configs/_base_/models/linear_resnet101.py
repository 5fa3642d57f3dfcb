# ResNet-101 (ImageNet-pretrained, torchvision's weights as in the papers) +
# global average pooling + a linear multi-label head: the plain baseline.
# torchvision's checkpoint is a bare backbone state dict (conv1, bn1,
# layer1..4, fc): it loads without a `prefix`; the unused fc is ignored.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=101,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch',
        init_cfg=dict(
            type='Pretrained', checkpoint='torchvision://resnet101')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=80,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True)),
)
