# MS-CMA on NUS-WIDE (81 concepts) at 448 px, ResNet-101; the class-imbalance
# loss with beta = 0.4 (label frequencies p_k set by the LabelStateHook).
# Paper (MS-CMA, AAAI 2020, Table 5): 61.4 mAP.
_base_ = [
    '../_base_/models/mscma_resnet101.py',
    '../_base_/datasets/nus-wide_bs8_448.py',
    '../_base_/schedules/coco_sgd_60e.py',
    '../_base_/default_runtime.py',
]
model = dict(head=dict(num_classes=81, loss=dict(beta=0.4)))
