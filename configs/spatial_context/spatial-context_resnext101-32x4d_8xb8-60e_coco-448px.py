# The two-branch spatial-context-aware network (ICASSP 2022, arXiv 2111.12296)
# on MS-COCO 2014, 448 px. No run of ours yet. The slides' P-C, R-C, F1-C,
# P-O, R-O, F1-O are CP, CR, CF1, OP, OR, OF1:
# paper: spatial-context slides "The Proposed" (MS-COCO): mAP 86.0,
#   CF1 80.3, OF1 83.2, CP 84.0, CR 77.5, OP 85.9, OR 80.6
# Model: ImageNet ResNeXt-101 32x4d (mmpretrain's resnext101-32x4d_8xb32_in1k)
# + FPN + the spatial-context head (_base_/models/spatial-context_*.py and
# docs/spatial_context.md). Recipe (ours: the slides give none; the MS-CMA
# configs' for comparison): SGD momentum 0.9, weight decay 1e-5, lr 0.01 for
# 8 GPUs x 8 images, x0.1 at epoch 30, 60 epochs; random resized crop (scale
# 0.3-1) to 448 px + horizontal flip, the instance boxes moved with the image;
# test at 448 px.
_base_ = [
    '../_base_/datasets/coco_bs8_448.py',
    '../_base_/models/spatial-context_resnext101-32x4d.py',
    '../_base_/schedules/coco_sgd_60e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(pad_size_divisor=32)
train_dataloader = dict(
    dataset=dict(
        with_boxes=True,
        pipeline={{_base_.box_train_pipeline}}))
