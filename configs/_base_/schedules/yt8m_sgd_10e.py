# The MS-CMA video recipe (YouTube-8M): SGD momentum 0.9, batch 256, lr 2e-4
# x0.8 every 2e6 samples (7,813 iterations of 256). The paper: "the initial
# learning rate is 0.0002 and decay each 2 x 10^6 samples with momentum 0.8"
# (section 4.2): read as the decay factor 0.8, since SGD's momentum is given
# separately (0.9). The paper gives no training length: 10 epochs here. The decay counts iterations, not
# epochs, over the whole run (end defaults to the run's end).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=2e-4, momentum=0.9, weight_decay=0.0))
param_scheduler = dict(
    type='StepLR', by_epoch=False, begin=0, step_size=7813, gamma=0.8)
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 2e-4 is for one batch of 256; scaled linearly with --auto-scale-lr.
auto_scale_lr = dict(base_batch_size=256)
