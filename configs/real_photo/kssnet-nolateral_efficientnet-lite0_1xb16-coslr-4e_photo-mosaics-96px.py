# Real-photo mosaics: the KSSNet config without its lateral connections (the
# 4-layer GCN over the KS graph classifies the stride-32 map, as ML-GCN's
# does): the laterals' share of KSSNet's result.
_base_ = ['./kssnet_efficientnet-lite0_1xb16-coslr-4e_photo-mosaics-96px.py']

model = dict(backbone=dict(stages=()))
