# ML-GCN on NUS-WIDE (81 concepts) at 448 px, ResNet-101, the released
# recipe (the released code has no NUS-WIDE script; the COCO one's settings).
# The CVPR 2019 paper has no NUS-WIDE experiment; the released README's
# "Update" table does (62.5; one README revision, 0c4673e, shows 62.8;
# docs/paper_numbers.yml):
# paper: ML-GCN README "Ours" (NUS-WIDE): mAP 62.5
_base_ = [
    '../_base_/models/mlgcn_resnet101.py',
    '../_base_/datasets/nus-wide_bs8_448.py',
    '../_base_/datasets/mlgcn_train_448.py',
    '../_base_/schedules/mlgcn_sgd_20e.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(num_classes=81), head=dict(num_classes=81))
# ML-GCN's training crop; testing resizes to 448 x 448 (the base's).
train_dataloader = dict(
    batch_size=16, dataset=dict(pipeline={{_base_.mlgcn_train_pipeline}}))
