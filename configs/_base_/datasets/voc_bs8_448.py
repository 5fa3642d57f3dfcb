# PASCAL VOC 2007 (VOCMultiLabel: mmpretrain's VOC layout, checked), trainval / test, 448 px.
# Difficult labels are recorded apart (gt_label_difficult): they are not
# positives for the label graph and are ignored by the VOC metrics.
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
val_evaluator = [
    dict(type='VOCAveragePrecision'),
    dict(type='VOCMultiLabelMetric', thr=0.5, average='macro'),
    dict(type='VOCMultiLabelMetric', thr=0.5, average='micro'),
    dict(type='VOCMultiLabelMetric', topk=3, average='macro'),
    dict(type='VOCMultiLabelMetric', topk=3, average='micro'),
]
test_evaluator = val_evaluator
