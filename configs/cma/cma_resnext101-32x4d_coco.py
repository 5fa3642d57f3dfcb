# CMA on another convolutional backbone: ResNeXt-101 32x4d, COCO 2014, 448 px.
# No paper number (shows the head on any MMPretrain backbone).
_base_ = ['./cma_r101_coco.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNeXt',
        depth=101,
        groups=32,
        width_per_group=4,
        out_indices=(3, ),
        style='pytorch'))
