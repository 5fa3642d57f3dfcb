# Real-photo mosaics (benchmarks/real_photo_mosaics.py --source photos): 2x2
# or 3x3 grids of crops of 16 real photographs shipped in wheels
# (scikit-image, scikit-learn, matplotlib), one class per photo, written as
# COCO json (one annotation per item, its cell as bbox) at 192 px; train and
# val crops come from disjoint parts of each photo. Generate with
#   python benchmarks/real_photo_mosaics.py --source photos \
#       --out data/photo_mosaics --num-train 600 --num-val 300
# Images are resized to 96 px (CPU-sized; mmcv's Resize moves the boxes too)
# with a horizontal flip in training; pixels scaled as Google's Lite models
# were trained, (x - 127) / 128, RGB.
_base_ = ['./multilabel_metrics.py']

dataset_type = 'CocoMultiLabel'
data_root = 'data/photo_mosaics'
num_classes = 16
image_size = 96
data_preprocessor = dict(
    num_classes=num_classes,
    mean=[127., 127., 127.],
    std=[128., 128., 128.],
    to_rgb=True,
    to_onehot=True,
)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(image_size, image_size)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# The spatial-context configs load the items' boxes (with_boxes=True) and
# pack them with this pipeline.
box_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(image_size, image_size)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputsWithBoxes'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(image_size, image_size)),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train.json',
        data_prefix='train',
        drop_empty=False,
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_val.json',
        data_prefix='val',
        drop_empty=False,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_dataloader = val_dataloader
