# PASCAL VOC 2007 (VOCMultiLabel: mmpretrain's VOC layout, checked), trainval / test, 448 px.
# Difficult labels are recorded apart (gt_label_difficult): they are not
# positives for the label graph and are ignored by the AP ranking.
_base_ = ['./coco_bs8_448.py']

# mmcma's VOCMultiLabel: mmpretrain's VOC with checked xml, ids and image sizes.
dataset_type = 'VOCMultiLabel'
data_root = 'data/VOC2007'
data_preprocessor = dict(num_classes=20)
_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(448, 448)),
    dict(type='PackInputs',
         meta_keys=('sample_idx', 'img_path', 'ori_shape', 'img_shape',
                    'gt_label_difficult')),
]
train_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root,
                 split='trainval', pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root,
                 split='test', pipeline=_test_pipeline))
test_dataloader = val_dataloader
# The evaluator is the base's PaperMultiLabelMetric: VOC's difficult labels
# (gt_label_difficult, packed above) are left out of the AP ranking and
# count as negatives in CP / CR / OP / OR, as in ML-GCN's VOC evaluation.
