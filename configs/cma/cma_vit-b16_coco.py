# CMA on a transformer: ViT-B/16 whose patch tokens are reshaped to a
# (B, 768, 28, 28) map at 448 px (out_type='featmap'), COCO 2014.
# No paper number (shows the head on any MMPretrain backbone). AdamW suits
# ViT better than the ResNet recipe's SGD.
_base_ = ['./cma_r101_coco.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='VisionTransformer',
        arch='b',
        img_size=448,
        patch_size=16,
        out_type='featmap',
        drop_path_rate=0.1),
    neck=dict(in_channels=768))
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=5.0))
