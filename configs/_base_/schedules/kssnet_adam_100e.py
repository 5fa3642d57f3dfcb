# KSSNet's MS-COCO recipe (paper, Implementation Details): Adam (momentum
# 0.9 = beta1), weight decay 1e-4, initial lr 0.01, batch 80, 100 epochs.
# The paper leaves open (our choices, docs/kssnet.md):
# - lr of the pretrained CNN: x0.1 (lr_mult), ML-GCN's `lrp` and the ratio
#   KSSNet itself states for Charades (GCN 1e-3, the rest 1e-4);
# - decay: x0.1 at epoch 30, ML-GCN's released `epoch_step`.
optim_wrapper = dict(
    optimizer=dict(
        type='Adam', lr=0.01, betas=(0.9, 0.999), weight_decay=1e-4),
    paramwise_cfg=dict(
        custom_keys={'backbone.backbone': dict(lr_mult=0.1)}),
)
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, begin=0, end=100, milestones=[30],
    gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 0.01 is for batch 80.
auto_scale_lr = dict(base_batch_size=80)
