# CPU demo schedule: AdamW, cosine decay over 24 epochs, validation every 8.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=3e-3, weight_decay=1e-4))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=24)
train_cfg = dict(by_epoch=True, max_epochs=24, val_interval=8)
val_cfg = dict()
test_cfg = dict()
