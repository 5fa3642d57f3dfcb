# CMA on another convolutional backbone: ResNeXt-101 32x4d, COCO 2014, 448 px.
# No paper number (shows the head on any MMPretrain backbone). The backbone
# is replaced whole (_delete_), so its ImageNet weights are named here:
# mmpretrain's resnext101-32x4d_8xb32_in1k (78.6 top-1), keys under
# `backbone.`.
_base_ = ['./cma_resnet101_8xb8-60e_coco-448px.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNeXt',
        depth=101,
        groups=32,
        width_per_group=4,
        out_indices=(3, ),
        style='pytorch',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnext/resnext101_32x4d_b32x8_imagenet_20210506-e0fa3dd5.pth',
            prefix='backbone')))
