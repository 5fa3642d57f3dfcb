# The demo YouTube-8M-format data (16 labels in co-occurring pairs, 30-60
# frames per video, 1,280 train / 256 validation videos). Generate it with
#   python -m mmcma.datasets.youtube8m_generator --out data/yt8m_demo
dataset_type = 'YouTube8MDataset'
data_root = 'data/yt8m_demo'
num_classes = 16
common = dict(
    type=dataset_type,
    data_root=data_root,
    num_classes=num_classes,
    vocabulary_file=data_root + '/vocabulary.csv',
    modality='rgb',
    max_frames=300)

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(**common, file_pattern='train/*.tfrecord'),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(**common, file_pattern='validate/*.tfrecord'),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_dataloader = val_dataloader

val_evaluator = dict(type='VideoMultiLabelMetric', top_k=20)
test_evaluator = val_evaluator
