# ResNet-101 + linear multi-label head on MS-COCO 2014 at 448 px.
# paper: MS-CMA Table 3 "ResNet-101 (2016)" (MS-COCO): mAP 79.9
_base_ = [
    '../_base_/models/linear_resnet101.py',
    '../_base_/datasets/coco_bs8_448.py',
    '../_base_/schedules/coco_sgd_60e.py',
    '../_base_/default_runtime.py',
]
