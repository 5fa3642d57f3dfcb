# Self-attention-FC: CMA-FC with the self-attention ablation.
# paper: MS-CMA Table 4 "Self-attention-FC" (YouTube-8M Segments): Hit@1 85.1,
#   PERR 79.1, mAP 49.6, GAP 81.8
_base_ = ['./cma_fc_1xb256-10e_yt8m-segments.py']
# No label embeddings, so the neck builds no projection into their space.
model = dict(neck=dict(embed_dim=None), head=dict(attention='self'))
custom_hooks = []
