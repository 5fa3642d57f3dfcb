# ResNet-101 C5 -> CMT neck -> CMA head with ASGE label embeddings (MS-CMA
# paper, single scale). The LabelEmbeddingHook fits ASGE on the training
# labels before training and fills the head's embedding buffer.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=101,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='torchvision://resnet101',
            prefix='backbone')),
    neck=dict(
        type='CMTNeck',
        in_channels=2048,
        reduced_channels=512,
        embed_dim=256,
        cmt_channels=(256, )),
    head=dict(
        type='CMAHead',
        num_classes=80,
        in_channels=512,
        embed_dim=256,
        attention='cosine',
        loss=dict(type='ClassImbalanceBCELoss', beta=0.0)),
)
custom_hooks = [dict(type='LabelEmbeddingHook', graph=dict(kind='conditional'))]
