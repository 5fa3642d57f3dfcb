# Ablation: KSSNet with a 3-layer GCN (the paper's "Influence of GCN Depth"):
# the first graph convolution and its lateral connection are deleted, the
# first remaining layer takes the label vectors E0. GCN D_in -> 512 -> 1024
# -> 2048; E1 (512) enters res3 (layer2), E2 (1024) res4 (layer3), E3 (N x
# 2048) classifies (two lateral connections; res2 gets none). Everything
# else as kssnet_resnet101_8xb10-100e_coco-448px.py (KS graph, recipe).
# Paper (KSSNet, AAAI 2020, Table 4, "KSSNet (3 layers)", ResNet101): 83.5
# mAP on MS-COCO (2 layers 82.9, 4 layers 83.7); Table 4 prints mAP only.
# Page: the seeds text of the paper carries no page numbers.
_base_ = ['./kssnet_resnet101_8xb10-100e_coco-448px.py']
model = dict(
    backbone=dict(
        gcn=dict(channels=(512, 1024, 2048)), stages=('layer2', 'layer3')))
