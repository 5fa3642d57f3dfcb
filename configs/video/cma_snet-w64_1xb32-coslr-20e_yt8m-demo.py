# CMA-SNet on the demo YouTube-8M-format data, CPU-sized: SNet 4 x 64, CMT
# 64 -> 32, 16 labels; the demo schedule (AdamW, cosine) over 20 epochs.
# Generate the data with
#   python -m mmcma.datasets.youtube8m_generator --out data/yt8m_demo
# The labels hide among distractor frames that only their temporal order
# tells apart. `make demo-video` (2 CPU cores, 107 s in all) gave GAP 96.87,
# Hit@1 99.61, PERR 97.30, mAP 93.31 after 20 epochs. Self-attention ablation:
#   --cfg-options model.head.attention=self model.neck.embed_dim=None custom_hooks=[]
_base_ = [
    '../_base_/models/cma_snet.py',
    '../_base_/datasets/yt8m-demo_bs32.py',
    '../_base_/schedules/demo_adamw_24e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(channels=(64, 64, 64, 64)),
    neck=dict(in_channels=64, reduced_channels=64, embed_dim=32,
              cmt_channels=(32, )),
    head=dict(num_classes=16, in_channels=64, embed_dim=32),
)
param_scheduler = dict(end=20)
train_cfg = dict(max_epochs=20, val_interval=10)
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(save_best='video/GAP', rule='greater'))
