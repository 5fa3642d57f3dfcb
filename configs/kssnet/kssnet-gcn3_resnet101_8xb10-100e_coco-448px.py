# Ablation: KSSNet with a 3-layer GCN (the paper's "Influence of GCN Depth"):
# the first graph convolution and its lateral connection are deleted, the
# first remaining layer takes the label vectors E0. GCN D_in -> 512 -> 1024
# -> 2048; E1 (512) enters res3 (layer2), E2 (1024) res4 (layer3), E3 (N x
# 2048) classifies (two lateral connections; res2 gets none). Everything
# else as kssnet_resnet101_8xb10-100e_coco-448px.py (KS graph, recipe).
# paper: KSSNet Table 4 "KSSNet (3 layers)" (MS-COCO): mAP 83.5
# paper: KSSNet Table 4 "KSSNet (2 layers)" (MS-COCO): mAP 82.9
# paper: KSSNet Table 4 "KSSNet (4 layers)" (MS-COCO): mAP 83.7
# (Table 4 prints mAP only, with a ResNet101 backbone.)
_base_ = ['./kssnet_resnet101_8xb10-100e_coco-448px.py']
model = dict(
    backbone=dict(
        gcn=dict(channels=(512, 1024, 2048)), stages=('layer2', 'layer3')))
