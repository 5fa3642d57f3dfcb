# CMA-SNet on YouTube-8M Segments (rgb frame features, 1,000 classes).
# Paper (MS-CMA, AAAI 2020, Table 4), Hit@1 / PERR / mAP / GAP:
#   CMA-SNet            86.7 / 81.0 / 55.8 / 84.1
#   CMA-FC              85.4 / 79.5 / 50.7 / 82.3
#   Self-attention-SNet 86.1 / 80.2 / 53.2 / 83.3
#   Self-attention-FC   85.1 / 79.1 / 49.6 / 81.8
# Recipe (the bases): SNet 4 x 512 (kernel 3), CMT 512 -> 256, CMA with ASGE
# (alpha = 0.1); SGD momentum 0.9, batch 256, lr 2e-4 x0.95 every 7,813
# iterations (2e6 samples), 10 epochs; rgb features only, at most 300 frames.
_base_ = [
    '../_base_/models/cma_snet.py',
    '../_base_/datasets/yt8m-segments_bs256.py',
    '../_base_/schedules/yt8m_sgd_10e.py',
    '../_base_/default_runtime.py',
]
default_hooks = dict(
    checkpoint=dict(save_best='video/GAP', rule='greater'))
