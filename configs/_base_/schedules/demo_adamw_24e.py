# CPU demo schedule: AdamW, cosine decay over 24 epochs, validation every 8.
# begin/end span the whole run (T_max = end - begin): a config that trains
# for another number of epochs sets `end` with `train_cfg.max_epochs`.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=3e-3, weight_decay=1e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', by_epoch=True, begin=0, end=24)
train_cfg = dict(by_epoch=True, max_epochs=24, val_interval=8)
val_cfg = dict()
test_cfg = dict()
