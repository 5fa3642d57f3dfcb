# MS-CMA on NUS-WIDE (81 concepts) at 448 px, ResNet-101; the class-imbalance
# loss with beta = 0.4 (label frequencies p_k set by the LabelStateHook).
# paper: MS-CMA Table 2 "MS-CMA" (NUS-WIDE): mAP 61.4, CF1 60.5, OF1 73.8
_base_ = [
    '../_base_/models/mscma_resnet101.py',
    '../_base_/datasets/nus-wide_bs8_448.py',
    '../_base_/schedules/coco_sgd_60e.py',
    '../_base_/default_runtime.py',
]
model = dict(head=dict(num_classes=81, loss=dict(beta=0.4)))
