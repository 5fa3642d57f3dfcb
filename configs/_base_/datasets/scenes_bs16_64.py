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

# The scenes are generated at 64 px and train as they are (no resize): a
# stray large training image would reach the backbone at full size, so
# training images over 1 MP are refused with a clear error. The test
# pipeline resizes every image to the training size (a 64 px scene stays
# the same pixels: tests/test_apis/test_photos.py), so photos of any size
# can be predicted and batched (tools/infer.py).
max_pixels = 1_000_000
image_size = 64

# A horizontal flip keeps the scenes' vertical layout (sky above, ground
# below): the spatial context stays learnable.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
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
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_dataloader = val_dataloader
