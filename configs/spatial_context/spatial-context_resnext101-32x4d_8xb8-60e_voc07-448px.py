# The two-branch spatial-context-aware network (ICASSP 2022, arXiv 2111.12296)
# on PASCAL VOC 2007 trainval / test, 448 px. No run of ours yet.
# paper: spatial-context slides "The Proposed" (VOC 2007): mAP 95.3
# Model and recipe: the COCO config's, with 20 labels; the object boxes
# come from the VOC xml files (VOCMultiLabel(with_boxes=True)), difficult
# objects left out as they are left out of the image-level labels.
_base_ = [
    '../_base_/datasets/voc_bs8_448.py',
    '../_base_/models/spatial-context_resnext101-32x4d.py',
    '../_base_/schedules/coco_sgd_60e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(num_classes=20, pad_size_divisor=32)
model = dict(head=dict(num_classes=20))
train_dataloader = dict(
    dataset=dict(
        with_boxes=True,
        difficult_boxes='ignore',
        pipeline={{_base_.box_train_pipeline}}))
