# YouTube-8M Segments (2019), frame-level rgb features, 1,000 rated classes.
# Expected layout under data/yt8m:
#   train/train*.tfrecord        frame-level training videos (video labels)
#   validate/validate*.tfrecord  segment-rated validation videos
#   vocabulary.csv               YouTube-8M vocabulary (Index, ..., Name)
#   segment_label_ids.csv        the 1,000 segment classes (an Index column)
# Labels are mapped to the 1,000 segment classes (others are dropped). The
# paper does not state its split protocol; here the model trains on video
# labels and is evaluated per video on the rated validation videos. For
# per-segment evaluation set val/test label_level='segment'.
# The paper uses the rgb features only (no audio).
dataset_type = 'YouTube8MDataset'
data_root = 'data/yt8m'
num_classes = 1000
common = dict(
    type=dataset_type,
    data_root=data_root,
    num_classes=num_classes,
    label_subset=data_root + '/segment_label_ids.csv',
    vocabulary_file=data_root + '/vocabulary.csv',
    modality='rgb',
    max_frames=300)

# Variable-length videos: pseudo_collate (the runner's default) keeps them
# a list; FrameFeaturePreprocessor pads them and builds the frame mask.
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    dataset=dict(**common, file_pattern='train/*.tfrecord'),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    dataset=dict(
        **common, file_pattern='validate/*.tfrecord', label_level='video'),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_dataloader = val_dataloader

# GAP over the top-20 predictions per video, Avg Hit@1, PERR, mAP.
val_evaluator = dict(type='VideoMultiLabelMetric', top_k=20)
test_evaluator = val_evaluator
