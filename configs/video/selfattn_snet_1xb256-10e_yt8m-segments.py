# Self-attention-SNet: CMA-SNet with eq. 7 replaced by a 1x1 conv + sigmoid
# (no label embeddings). YouTube-8M Segments.
# paper: MS-CMA Table 4 "Self-attention-SNet" (YouTube-8M Segments): Hit@1 86.1,
#   PERR 80.2, mAP 53.2, GAP 83.3
_base_ = ['./cma_snet_1xb256-10e_yt8m-segments.py']
# No label embeddings, so the neck builds no projection into their space.
model = dict(neck=dict(embed_dim=None), head=dict(attention='self'))
custom_hooks = []
