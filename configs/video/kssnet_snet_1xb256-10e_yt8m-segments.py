# KSSNet-SNet on YouTube-8M Segments (rgb frame features, 1,000 classes):
# SNet 4 x 512 with lateral connections from a 4-layer label GCN into its
# first three temporal layers; KSSNet's Charades optimiser (Adam, GCN lr
# 1e-3, the rest 1e-4, weight decay 1e-4, none on biases) and GCN init
# ("We use the strategy proposed in (He et al. 2015) to initialize the
# GCN": gcn.init='kaiming'), batch 256, 10 epochs. Not in the KSSNet
# paper, which reports Charades with Inception-I3D (not reproducible
# offline); compare with video/cma_snet_1xb256-10e_yt8m-segments.py.
# paper: KSSNet Table 2 "KSSNet" (Charades): mAP 44.9
# paper: MS-CMA Table 4 "CMA-SNet" (YouTube-8M Segments): GAP 84.1
_base_ = [
    '../_base_/models/kssnet_snet.py',
    '../_base_/datasets/yt8m-segments_bs256.py',
    '../_base_/schedules/kssnet_yt8m_adam_10e.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(gcn=dict(init='kaiming')))
default_hooks = dict(
    checkpoint=dict(save_best='video/GAP', rule='greater'))
