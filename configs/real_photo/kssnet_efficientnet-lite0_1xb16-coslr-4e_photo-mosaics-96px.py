# Real-photo mosaics: KSSNet. The ML-GCN config with a 4-layer label GCN
# (50 -> 40 -> 112 -> 320 -> 1280: the widths of EfficientNet-Lite0's
# stages 3, 4, 5 and its head conv) whose hidden embeddings enter stages
# layers.3, layers.4, layers.5 (strides 8, 16, 32) through lateral
# connections (tanh, zero-initialised), over the KS graph (the statistical
# graph superimposed with WordNet's, the paper's MS-COCO lambda 0.4, tau
# 0.02, eta 0.4).
_base_ = ['./mlgcn_efficientnet-lite0_1xb16-coslr-4e_photo-mosaics-96px.py']

model = dict(
    backbone=dict(
        gcn=dict(channels=(40, 112, 320, 1280)),
        stages=('layers.3', 'layers.4', 'layers.5'),
        lateral=dict(activation='tanh', zero_init=True)),
)
custom_hooks = [
    dict(
        type='LabelStateHook',
        graph=dict(
            kind='ks', knowledge=dict(type='wordnet'), lam=0.4, tau=0.02,
            eta=0.4),
        embedding=dict(type='glove')),
]
