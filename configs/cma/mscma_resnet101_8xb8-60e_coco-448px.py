# MS-CMA on MS-COCO 2014 at 448 px, ResNet-101, ASGE embeddings, beta = 0.
# Paper (MS-CMA, AAAI 2020, Table 2): 83.8 mAP.
_base_ = [
    '../_base_/models/mscma_resnet101.py',
    '../_base_/datasets/coco_bs8_448.py',
    '../_base_/schedules/coco_sgd_60e.py',
    '../_base_/default_runtime.py',
]
