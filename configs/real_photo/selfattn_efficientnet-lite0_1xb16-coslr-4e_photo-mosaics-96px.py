# Real-photo mosaics: the CMA config with eq. 7 replaced by a 1x1 conv and a
# sigmoid (self-attention, no label embedding).
_base_ = ['./cma_efficientnet-lite0_1xb16-coslr-4e_photo-mosaics-96px.py']

model = dict(neck=dict(embed_dim=None), head=dict(attention='self'))
custom_hooks = []
