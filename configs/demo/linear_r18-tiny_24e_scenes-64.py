# Demo: a narrow ResNet-18 (16 base channels, from scratch) + linear
# multi-label head on the embedded synthetic scenes, CPU-sized.
_base_ = [
    '../_base_/datasets/scenes_bs16_64.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet', depth=18, stem_channels=16, base_channels=16,
        out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=12,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True)),
)

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=3e-3, weight_decay=1e-4))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=24)
train_cfg = dict(by_epoch=True, max_epochs=24, val_interval=8)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=10))
