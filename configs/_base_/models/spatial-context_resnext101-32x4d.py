# The two-branch spatial-context-aware network (ICASSP 2022, arXiv 2111.12296,
# no public code), 448 px, 80 labels. What the slides fix: ResNeXt-101 -> a
# 4-level FPN; two patch generators (object patches; context patches expanded
# around them); four processors (location regressor, smooth-L1; patch
# classifier, BCE; object- and context-branch label predictors, BCE).
# Everything else is this project's design (docs/spatial_context.md): C2-C5
# into the FPN (the slides: "the feature maps from the last convolutional
# layer are used as the input of FPN"; C2-C5 as the FPN paper builds its
# pyramid), image scores from the patches, a 128-channel FPN, an RPN on P3-P5
# for the object patches, context patches 2x about the centre, 7x7 RoIAlign
# of a 64-channel reduction of the pyramid and a 512-wide two-layer MLP per
# branch (sizes chosen for cost), objectness x mean of the two branches' label
# probabilities, max over the patches, image-level BCE. Configs using it set
# the data preprocessor's pad_size_divisor=32 (anchors and RoI levels come
# from the input size).
model = dict(
    type='SpatialContextClassifier',
    backbone=dict(
        type='ResNeXt',
        depth=101,
        groups=32,
        width_per_group=4,
        out_indices=(0, 1, 2, 3),
        style='pytorch',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnext/resnext101_32x4d_b32x8_imagenet_20210506-e0fa3dd5.pth',
            prefix='backbone')),
    neck=dict(
        type='FeaturePyramidNeck',
        in_channels=(256, 512, 1024, 2048),
        out_channels=128),
    head=dict(
        type='SpatialContextHead',
        num_classes=80,
        # Anchors of 16-256 px on P3-P5 (Faster R-CNN's 32-512 px at 800 px,
        # scaled to 448 px, spread over three levels): the RPN head skips P2,
        # where its 3x3 conv cost as much as the rest of the head together.
        patch_generator=dict(
            type='RPNPatchGenerator',
            anchor_generator=dict(
                sizes=((16, 32), (48, 96), (128, 256)),
                aspect_ratios=(0.5, 1.0, 2.0)),
            head=dict(levels=(1, 2, 3)),
            train_cfg=dict(
                pos_iou=0.7, neg_iou=0.3, num_samples=256, pos_fraction=0.5,
                pre_nms_top_n=2000, post_nms_top_n=512),
            test_cfg=dict(pre_nms_top_n=1000, post_nms_top_n=300),
            nms_iou=0.7),
        context_generator=dict(type='ContextPatchGenerator', scale=2.0),
        roi_extractor=dict(
            type='PatchRoIExtractor',
            in_channels=128,
            num_levels=4,
            roi_size=7,
            sampling_ratio=1,
            # FPN eq. 1's 224 px at 800 px, scaled to 448 px.
            canonical_scale=128,
            canonical_level=4,
            # RoIs pooled from a 64-channel 1x1 conv of the pyramid, one
            # sample per bin, then 512-wide MLPs (cost:
            # docs/spatial_context.md).
            out_channels=64),
        branches=dict(
            type='PatchBranches',
            hidden_channels=512,
            box_coder=dict(type='DeltaXYWHBoxCoder',
                           weights=(10., 10., 5., 5.))),
        aggregation=dict(type='PatchAggregator', combine='mean', topk=1),
        loss=dict(type='ClassImbalanceBCELoss', beta=0.0),
        train_cfg=dict(
            assigner=dict(type='MaxIoUAssigner', pos_iou=0.5, neg_iou=0.5),
            sampler=dict(type='BalancedRandomSampler', num=512,
                         pos_fraction=0.25),
            add_gt_patches=True,
            refine_boxes=False),
        test_cfg=dict(refine_boxes=True)),
)

# The training pipeline it needs at 448 px: boxes loaded by the dataset
# (with_boxes=True) and moved with the image (BoxRandomResizedCrop, not
# mmpretrain's RandomResizedCrop), then packed as tensors.
box_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='BoxRandomResizedCrop', scale=448, crop_ratio_range=(0.3, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputsWithBoxes'),
]
