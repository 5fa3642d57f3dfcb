# MS-CMA on MS-COCO 2014 at 448 px, ResNet-101, ASGE embeddings, beta = 0.
# paper: MS-CMA Table 1 "MS-CMA" (MS-COCO): mAP 83.8, CP 82.9, CR 74.4,
#   CF1 78.4, OP 84.4, OR 77.9, OF1 81.0
_base_ = [
    '../_base_/models/mscma_resnet101.py',
    '../_base_/datasets/coco_bs8_448.py',
    '../_base_/schedules/coco_sgd_60e.py',
    '../_base_/default_runtime.py',
]
