# CMA on a transformer: ViT-B/16 whose patch tokens are reshaped to a
# (B, 768, 28, 28) map at 448 px (out_type='featmap'), COCO 2014.
# No paper number (shows the head on any MMPretrain backbone). AdamW suits
# ViT better than the ResNet recipe's SGD (the step decay is kept).
# The backbone is replaced whole (_delete_), so its weights are named here:
# mmpretrain's vit-base-p16_in21k-pre_3rdparty_in1k-384px (85.4 top-1), keys
# under `backbone.`; the 384 px position embeddings are resized to 448 px on
# loading. Those weights expect inputs normalised to [-1, 1].
_base_ = ['./cma_resnet101_8xb8-60e_coco-448px.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='VisionTransformer',
        arch='b',
        img_size=448,
        patch_size=16,
        out_type='featmap',
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'vit/finetune/vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384'
            '_20210928-98e8652b.pth',
            prefix='backbone')),
    neck=dict(in_channels=768))
data_preprocessor = dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5])
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=5.0))
