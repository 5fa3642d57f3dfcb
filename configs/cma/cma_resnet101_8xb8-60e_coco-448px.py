# CMA (single scale) on MS-COCO 2014 at 448 px, ResNet-101, ASGE embeddings.
# paper: MS-CMA Table 3 "CMA" (MS-COCO): mAP 82.8
_base_ = [
    '../_base_/models/cma_resnet101.py',
    '../_base_/datasets/coco_bs8_448.py',
    '../_base_/schedules/coco_sgd_60e.py',
    '../_base_/default_runtime.py',
]
