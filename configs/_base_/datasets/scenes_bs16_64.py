# The embedded default dataset (mmcma.datasets.synthetic_scenes): 12 labels,
# 64 px scenes. Generate it with
#   python -m mmcma.datasets.synthetic_scenes --out data/scenes
_base_ = ['./multilabel_metrics.py']

dataset_type = 'CocoMultiLabel'
data_root = 'data/scenes'
data_preprocessor = dict(
    num_classes=12,
    mean=[127.5, 127.5, 127.5],
    std=[64.0, 64.0, 64.0],
    to_rgb=True,
    to_onehot=True,
)

# The pipelines do not resize: a stray large image would reach the backbone
# at full size, so images over 1 MP are refused with a clear error.
max_pixels = 1_000_000

# A horizontal flip keeps the scenes' vertical layout (sky above, ground
# below): the spatial context stays learnable.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
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
        max_pixels=max_pixels,
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
        max_pixels=max_pixels,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_dataloader = val_dataloader
