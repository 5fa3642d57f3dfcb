# MS-CMA on PASCAL VOC 2007 at 448 px, ResNet-101.
# The MS-CMA paper reports no VOC number; for comparison, ML-GCN on VOC:
# paper: ML-GCN README "Ours" (VOC 2007): mAP 94.0
_base_ = [
    '../_base_/models/mscma_resnet101.py',
    '../_base_/datasets/voc_bs8_448.py',
    '../_base_/schedules/coco_sgd_60e.py',
    '../_base_/default_runtime.py',
]
model = dict(head=dict(num_classes=20))
default_hooks = dict(checkpoint=dict(save_best='multi-label/mAP'))
