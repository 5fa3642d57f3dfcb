# Demo: single-scale CMA (on C5, 8x8 at 64 px) with ASGE label embeddings on
# the embedded synthetic scenes; same backbone and schedule as the MS-CMA demo.
_base_ = ['./mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py']

model = dict(
    backbone=dict(out_indices=(3, )),
    neck=dict(in_channels=128, extra_stage=None),
    head=dict(
        type='CMAHead',
        in_channels=64,
        loss=dict(type='ClassImbalanceBCELoss', beta=0.0)))
