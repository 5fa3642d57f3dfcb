# ML-GCN's released recipe: SGD, momentum 0.9, weight decay 1e-4, lr 0.1 for
# the GCN and 0.1 x 0.1 = 0.01 for the pretrained backbone (lr x lrp; the
# backbone is LateralGCNBackbone's wrapped CNN, backbone.backbone),
# gradients clipped to norm 10, batch 16, 20 epochs. The released code decays
# the lr by 10 at epoch 30 (epoch_step), after its last epoch: the lr stays
# constant, hence no scheduler.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'backbone.backbone': dict(lr_mult=0.1)}),
    clip_grad=dict(max_norm=10),
)
param_scheduler = []
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 0.1 is for batch 16 (one GPU in the released code).
auto_scale_lr = dict(base_batch_size=16)
