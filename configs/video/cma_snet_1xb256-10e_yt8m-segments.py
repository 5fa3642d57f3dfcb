# CMA-SNet on YouTube-8M Segments (rgb frame features, 1,000 classes).
# paper: MS-CMA Table 4 "CMA-SNet" (YouTube-8M Segments): Hit@1 86.7,
#   PERR 81.0, mAP 55.8, GAP 84.1
# (CMA-FC, Self-attention-SNet, Self-attention-FC: their configs.)
# Recipe (the bases): SNet 4 x 512 (kernel 3), CMT 512 -> 256, CMA with ASGE
# (alpha = 0.1); SGD momentum 0.9, batch 256, lr 2e-4 x0.8 every 7,813
# iterations (2e6 samples), 10 epochs; rgb features only, at most 300 frames.
_base_ = [
    '../_base_/models/cma_snet.py',
    '../_base_/datasets/yt8m-segments_bs256.py',
    '../_base_/schedules/yt8m_sgd_10e.py',
    '../_base_/default_runtime.py',
]
default_hooks = dict(
    checkpoint=dict(save_best='video/GAP', rule='greater'))
