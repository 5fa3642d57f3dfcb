# ML-GCN on PASCAL VOC 2007 at 448 px, ResNet-101, the released recipe.
# paper: ML-GCN README "Ours" (VOC 2007): mAP 94.0
# The graph counts positives only
# (difficult = absent, as ML-GCN's graph); unlike the released training
# loss, which counts difficult labels as positives, VOCMultiLabel (as
# mmpretrain's VOC) gives them to the loss as negatives and leaves them out
# of the metric.
_base_ = [
    '../_base_/models/mlgcn_resnet101.py',
    '../_base_/datasets/voc_bs8_448.py',
    '../_base_/datasets/voc_glove.py',
    '../_base_/datasets/mlgcn_train_448.py',
    '../_base_/schedules/mlgcn_sgd_20e.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(num_classes=20), head=dict(num_classes=20))
# ML-GCN's training crop; testing resizes to 448 x 448 (the base's).
train_dataloader = dict(
    batch_size=16, dataset=dict(pipeline={{_base_.mlgcn_train_pipeline}}))
# Three VOC names are not words: GloVe looks up their parts.
custom_hooks = [
    dict(
        type='LabelStateHook',
        graph=dict(kind='mlgcn', variant='released', t=0.4),
        embedding={{_base_.voc_glove}}),
]
