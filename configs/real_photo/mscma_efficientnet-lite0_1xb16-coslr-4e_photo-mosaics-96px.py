# Real-photo mosaics: MS-CMA on the stride-16 stage (out index 4, 112 ch, 6x6
# at 96 px) and the stride-32 head conv (6, 1280 ch, 3x3) plus the neck's
# extra stage (2x2): the last two backbone scales, as the demo's MS-CMA takes
# C4 and C5 (out_indices (2, 3) of its ResNet) and
# benchmarks/bench_heads_real.py takes indices (4, 6).
_base_ = ['./cma_efficientnet-lite0_1xb16-coslr-4e_photo-mosaics-96px.py']

model = dict(
    backbone=dict(out_indices=(4, 6)),
    neck=dict(in_channels=(112, 1280), extra_stage=dict(out_channels=256)),
    head=dict(
        type='MSCMAHead',
        in_channels=(256, 256, 256),
        loss=dict(type='FusedScaleBCELoss', beta=0.0)),
)
