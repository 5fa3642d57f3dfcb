# MS-CMA: ResNet-101 C4 (28x28x1024) and C5 (14x14x2048) plus an extra
# residual block on C5 (7x7), one CMT + CMA per scale, shared ASGE label
# embeddings, probabilities averaged over the scales (eq. 11) and the loss of
# eq. 12 on the fused probabilities.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=101,
        num_stages=4,
        out_indices=(2, 3),
        style='pytorch',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='torchvision://resnet101',
            prefix='backbone')),
    neck=dict(
        type='CMTNeck',
        in_channels=(1024, 2048),
        reduced_channels=512,
        embed_dim=256,
        cmt_channels=(256, ),
        extra_stage=dict(out_channels=512)),
    head=dict(
        type='MSCMAHead',
        num_classes=80,
        in_channels=(512, 512, 512),
        embed_dim=256,
        attention='cosine',
        loss=dict(type='ClassImbalanceBCELoss', beta=0.0, use_sigmoid=False)),
)
custom_hooks = [dict(type='LabelEmbeddingHook', graph=dict(kind='conditional'))]
