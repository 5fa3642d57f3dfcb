# KSSNet's video recipe (paper, Charades): Adam (beta1 0.9), weight decay
# 1e-4 and none on biases, lr 1e-3 for the GCN and 1e-4 for the rest. The
# paper gives no decay for it: a constant lr here, 10 epochs of YouTube-8M
# Segments (as the MS-CMA video configs), batch 256.
optim_wrapper = dict(
    optimizer=dict(
        type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-4),
    paramwise_cfg=dict(
        bias_decay_mult=0.0,
        custom_keys={'backbone.gcn': dict(lr_mult=10.0)}),
)
param_scheduler = []
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
