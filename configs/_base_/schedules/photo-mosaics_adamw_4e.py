# The real-photo mosaics' one recipe, every family alike: AdamW (lr 1e-3,
# weight decay 1e-4) on all parameters (the pretrained backbone included),
# cosine decay over 4 epochs, validation at the end.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', by_epoch=True, begin=0, end=4)
train_cfg = dict(by_epoch=True, max_epochs=4, val_interval=4)
val_cfg = dict()
test_cfg = dict()
