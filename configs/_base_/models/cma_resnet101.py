# ResNet-101 C5 -> CMT neck -> CMA head with ASGE label embeddings (MS-CMA
# paper, single scale). The LabelStateHook fits ASGE on the training
# labels before training and fills the head's embedding buffer.
_base_ = ['./linear_resnet101.py']
model = dict(
    neck=dict(
        _delete_=True,
        type='CMTNeck',
        in_channels=2048,
        reduced_channels=512,
        embed_dim=256,
        cmt_channels=(256, )),
    head=dict(
        _delete_=True,
        type='CMAHead',
        num_classes=80,
        in_channels=512,
        embed_dim=256,
        attention='cosine',
        loss=dict(type='ClassImbalanceBCELoss', beta=0.0)),
)
custom_hooks = [dict(type='LabelStateHook', graph=dict(kind='conditional'))]
