# The paper's self-attention ablation: CMA with eq. 7 replaced by a 1x1 conv +
# sigmoid (no label embeddings). MS-COCO 2014, 448 px, ResNet-101.
# paper: MS-CMA Table 3 "Self-attention" (MS-COCO): mAP 81.1
_base_ = ['./cma_resnet101_8xb8-60e_coco-448px.py']
# No label embeddings, so the neck builds no projection into their space.
model = dict(neck=dict(embed_dim=None), head=dict(attention='self'))
custom_hooks = []
