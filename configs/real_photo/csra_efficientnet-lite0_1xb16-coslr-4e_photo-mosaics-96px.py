# Real-photo mosaics: mmpretrain's CSRAClsHead ("Residual Attention: A Simple
# but Effective Method for Multi-Label Recognition"; 1 head, lambda 0.1) on
# the 1280-channel stride-32 map; the linear config's backbone and recipe.
_base_ = ['./linear_efficientnet-lite0_1xb16-coslr-4e_photo-mosaics-96px.py']

model = dict(
    neck=None,
    head=dict(
        _delete_=True,
        type='CSRAClsHead',
        num_classes=16,
        in_channels=1280,
        num_heads=1,
        lam=0.1,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True)),
)
