# ML-GCN on MS-COCO 2014 at 448 px, ResNet-101, the released recipe
# (configs/_base_/schedules/mlgcn_sgd_20e.py): multi-scale crop + flip,
# batch 16, SGD lr 0.1 (GCN) / 0.01 (backbone), gradient clipping at 10.
# ML-GCN (CVPR 2019, 300-d GloVe), and MS-CMA's and KSSNet's reruns of the
# released code (their Table 1):
# paper: ML-GCN README "Ours" (MS-COCO): mAP 83.0
# paper: MS-CMA Table 1 "ML-GCN (2019)" (MS-COCO): mAP 82.4
# paper: KSSNet Table 1 "ML-GCN (Chen et al. 2019)" (MS-COCO): mAP 82.4
# With GloVe 6B 50-d vectors here: not measured (no GPU).
_base_ = [
    '../_base_/models/mlgcn_resnet101.py',
    '../_base_/datasets/coco_bs8_448.py',
    '../_base_/datasets/mlgcn_train_448.py',
    '../_base_/schedules/mlgcn_sgd_20e.py',
    '../_base_/default_runtime.py',
]
# ML-GCN's training crop; testing resizes to 448 x 448 (the base's).
train_dataloader = dict(
    batch_size=16, dataset=dict(pipeline={{_base_.mlgcn_train_pipeline}}))
