# The MS-CMA recipe: SGD momentum 0.9, weight decay 1e-5, lr 0.01 for batch 64,
# x0.1 every 30 epochs, 60 epochs. The scheduler's begin/end are given so that
# a resumed run continues the same schedule.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-5))
param_scheduler = dict(
    type='StepLR', by_epoch=True, begin=0, end=60, step_size=30, gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=60, val_interval=5)
val_cfg = dict()
test_cfg = dict()
# lr 0.01 is for 8 GPUs x 8 images; scaled linearly with --auto-scale-lr.
auto_scale_lr = dict(base_batch_size=64)
