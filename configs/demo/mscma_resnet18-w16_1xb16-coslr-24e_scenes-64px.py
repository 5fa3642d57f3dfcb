# Demo: MS-CMA with ASGE label embeddings on the embedded synthetic scenes, a
# narrow ResNet-18 (16 base channels, from scratch), CPU-sized. Stages 3 and
# 4 keep stride 1 so that C4 and C5 are 8x8 maps at 64 px (the extra stage
# gives 4x4): attention needs positions to choose from.
_base_ = [
    '../_base_/datasets/scenes_bs16_64.py',
    '../_base_/schedules/demo_adamw_24e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet', depth=18, stem_channels=16, base_channels=16,
        strides=(1, 2, 1, 1), out_indices=(2, 3)),
    neck=dict(
        type='CMTNeck',
        in_channels=(64, 128),
        reduced_channels=64,
        embed_dim=64,
        cmt_channels=(64, ),
        extra_stage=dict(out_channels=32)),
    head=dict(
        type='MSCMAHead',
        num_classes=12,
        in_channels=(64, 64, 64),
        embed_dim=64,
        loss=dict(type='FusedScaleBCELoss', beta=0.0)),
)
custom_hooks = [dict(type='LabelStateHook', graph=dict(kind='conditional'))]
default_hooks = dict(logger=dict(interval=10))
pretrained_reason = 'CPU demo: a 16-channel ResNet-18 has no ImageNet weights'
