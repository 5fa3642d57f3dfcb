# MS-CMA: ResNet-101 C4 (28x28x1024) and C5 (14x14x2048) plus an extra
# residual block on C5 (7x7), one CMT + CMA per scale, shared ASGE label
# embeddings, probabilities averaged over the scales (eq. 11) and the loss of
# eq. 12 on the fused probabilities.
_base_ = ['./cma_resnet101.py']
model = dict(
    backbone=dict(out_indices=(2, 3)),
    neck=dict(in_channels=(1024, 2048), extra_stage=dict(out_channels=512)),
    head=dict(
        type='MSCMAHead',
        in_channels=(512, 512, 512),
        loss=dict(type='FusedScaleBCELoss', beta=0.0)),
)
