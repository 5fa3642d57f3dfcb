# Real-photo mosaics: single-scale CMA on the stride-32 head conv (1280 ch;
# 3x3 positions at 96 px) with ASGE label embeddings (the LabelStateHook fits
# them on the training labels); CPU-sized widths as
# benchmarks/bench_heads_real.py (reduced 256, embedding 128). The linear
# config's backbone and recipe.
_base_ = ['./linear_efficientnet-lite0_1xb16-coslr-4e_photo-mosaics-96px.py']

model = dict(
    neck=dict(
        _delete_=True,
        type='CMTNeck',
        in_channels=1280,
        reduced_channels=256,
        embed_dim=128,
        cmt_channels=(128, )),
    head=dict(
        _delete_=True,
        type='CMAHead',
        num_classes=16,
        in_channels=256,
        embed_dim=128,
        attention='cosine',
        loss=dict(type='ClassImbalanceBCELoss', beta=0.0)),
)
custom_hooks = [dict(type='LabelStateHook', graph=dict(kind='conditional'))]
