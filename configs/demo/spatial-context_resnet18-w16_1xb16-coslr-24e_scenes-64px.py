# Demo: the two-branch spatial-context network on the embedded synthetic
# scenes, CPU-sized: a narrow ResNet-18 (16 base channels, from scratch, all
# four stages) -> 4-level FPN (32 channels; P2-P5 are 16, 8, 4, 2 px maps at
# 64 px) -> RPN object patches (32 per image) + context patches (2x about the
# centre) -> 4x4 RoI features (one sample per bin: RoIAlign's backward was
# the largest cost on the CPU), a 128-wide MLP per branch -> the four
# processors; at test time the label predictors classify the regressed
# boxes (test_cfg refine_boxes, the default with boxes). About 5 CPU-minutes
# for 24 epochs with one thread (docs/spatial_context.md).
# The scenes' COCO files record each object's box: the dataset loads them
# (with_boxes=True) and PackInputsWithBoxes hands them to the model.
_base_ = [
    '../_base_/datasets/scenes_bs16_64.py',
    '../_base_/schedules/demo_adamw_24e.py',
    '../_base_/default_runtime.py',
]

data_preprocessor = dict(pad_size_divisor=32)
model = dict(
    type='SpatialContextClassifier',
    backbone=dict(
        type='ResNet', depth=18, stem_channels=16, base_channels=16,
        out_indices=(0, 1, 2, 3)),
    neck=dict(
        type='FeaturePyramidNeck', in_channels=(16, 32, 64, 128),
        out_channels=32),
    head=dict(
        type='SpatialContextHead',
        num_classes=12,
        # Objects in the scenes are 5-27 px (median 12): anchors of 8-64 px.
        patch_generator=dict(
            type='RPNPatchGenerator',
            anchor_generator=dict(
                sizes=((8, ), (16, ), (32, ), (64, )),
                aspect_ratios=(0.5, 1.0, 2.0)),
            train_cfg=dict(
                num_samples=128, pre_nms_top_n=300, post_nms_top_n=32),
            test_cfg=dict(pre_nms_top_n=300, post_nms_top_n=32)),
        context_generator=dict(type='ContextPatchGenerator', scale=2.0),
        roi_extractor=dict(
            type='PatchRoIExtractor',
            in_channels=32,
            roi_size=4,
            sampling_ratio=1,
            canonical_scale=32),
        branches=dict(type='PatchBranches', hidden_channels=128),
        loss=dict(type='ClassImbalanceBCELoss', beta=0.0),
        train_cfg=dict(
            sampler=dict(type='BalancedRandomSampler', num=64,
                         pos_fraction=0.25))),
)

_box_keys = dict(with_boxes=True)
train_dataloader = dict(
    dataset=dict(
        **_box_keys,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='PackInputsWithBoxes'),
        ]))
default_hooks = dict(logger=dict(interval=10))
pretrained_reason = 'CPU demo: a 16-channel ResNet-18 has no ImageNet weights'
