# CMA (single scale) on MS-COCO 2014 at 448 px, ResNet-101, ASGE embeddings.
# Paper (MS-CMA, AAAI 2020, Table 3 "CMA"): 82.8 mAP.
_base_ = [
    '../_base_/models/cma_resnet101.py',
    '../_base_/datasets/coco_bs8_448.py',
    '../_base_/schedules/coco_sgd_60e.py',
    '../_base_/default_runtime.py',
]
