# CMA-FC on YouTube-8M Segments: two per-frame FC layers (1024, 512) instead
# of SNet; everything else as CMA-SNet.
# paper: MS-CMA Table 4 "CMA-FC" (YouTube-8M Segments): Hit@1 85.4,
#   PERR 79.5, mAP 50.7, GAP 82.3
_base_ = ['./cma_snet_1xb256-10e_yt8m-segments.py']
model = dict(
    backbone=dict(
        _delete_=True, type='SNetFC', in_channels=1024,
        channels=(1024, 512)))
pretrained_reason = 'the FC layers on frame features are trained from scratch'
