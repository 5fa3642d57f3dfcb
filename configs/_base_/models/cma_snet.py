# CMA-SNet (MS-CMA paper, video): frame features (B, 1024, T) -> SNet, which
# squeezes time 16x -> CMT neck -> single-scale CMA head with ASGE label
# embeddings (relaxation alpha = 0.1, the paper's video setting), 1,000
# YouTube-8M segment classes. SNet's widths and kernel size are not given in
# the paper: 512 channels and kernel 3 here.
model = dict(
    type='VideoClassifier',
    backbone=dict(
        type='SNet', in_channels=1024, channels=(512, 512, 512, 512)),
    neck=dict(
        type='CMTNeck',
        in_channels=512,
        reduced_channels=512,
        embed_dim=256,
        cmt_channels=(256, )),
    head=dict(
        type='CMAHead',
        num_classes=1000,
        in_channels=512,
        embed_dim=256,
        attention='cosine',
        thr=0.5,
        loss=dict(type='ClassImbalanceBCELoss', beta=0.0)),
)
custom_hooks = [dict(type='LabelStateHook', embedding=dict(type='asge', alpha=0.1))]
# No ImageNet-style checkpoint exists for SNet: the paper trains it on the
# precomputed frame features from scratch.
pretrained_reason = 'SNet on frame features is trained from scratch (paper)'
