# KSSNet on PASCAL VOC 2007 at 448 px, ResNet-101, the paper's COCO recipe
# (Adam lr 0.01, weight decay 1e-4, batch 80, 100 epochs; ML-GCN's
# preprocessing). Difficult labels: as
# configs/mlgcn/mlgcn_resnet101_1xb16-20e_voc07-448px.py. KSSNet reports no
# VOC number; for comparison, ML-GCN on VOC:
# paper: ML-GCN README "Ours" (VOC 2007): mAP 94.0
_base_ = [
    '../_base_/models/kssnet_resnet101.py',
    '../_base_/datasets/voc_bs8_448.py',
    '../_base_/datasets/voc_glove.py',
    '../_base_/datasets/mlgcn_train_448.py',
    '../_base_/schedules/kssnet_adam_100e.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(num_classes=20), head=dict(num_classes=20))
# ML-GCN's training crop; testing resizes to 448 x 448 (the base's).
train_dataloader = dict(
    batch_size=10, dataset=dict(pipeline={{_base_.mlgcn_train_pipeline}}))
# The KS graph with the paper's MS-COCO values (WordNet maps VOC's
# diningtable, pottedplant, tvmonitor itself); three VOC names are not
# words: GloVe looks up their parts.
custom_hooks = [
    dict(
        type='LabelStateHook',
        graph=dict(
            kind='ks', knowledge=dict(type='wordnet'), lam=0.4, tau=0.02,
            eta=0.4),
        embedding={{_base_.voc_glove}}),
]
