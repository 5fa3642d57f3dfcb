# Real-photo mosaics: the two-branch spatial-context network on the linear
# config's EfficientNet-Lite0: a 4-level FPN (64 channels) on its stride 4,
# 8, 16 and 32 outputs (out indices 2, 3, 4 and the 1280-channel head conv
# 6; P2-P5 are 24, 12, 6, 3 px maps at 96 px) -> RPN object patches (32 per
# image) + context patches (2x about the centre) -> 4x4 RoI features, a
# 256-wide MLP per branch -> the four processors. Trained with the mosaics'
# item boxes (each item's cell, resized with the image) as instance boxes.
# Items are 32 px (3x3 grid) or 48 px (2x2) at 96 px: anchors of 16-96 px.
_base_ = ['./linear_efficientnet-lite0_1xb16-coslr-4e_photo-mosaics-96px.py']

data_preprocessor = dict(pad_size_divisor=32)
model = dict(
    type='SpatialContextClassifier',
    backbone=dict(out_indices=(2, 3, 4, 6)),
    neck=dict(
        _delete_=True,
        type='FeaturePyramidNeck',
        in_channels=(24, 40, 112, 1280),
        out_channels=64),
    head=dict(
        _delete_=True,
        type='SpatialContextHead',
        num_classes=16,
        patch_generator=dict(
            type='RPNPatchGenerator',
            anchor_generator=dict(
                sizes=((16, ), (32, ), (48, ), (96, )),
                aspect_ratios=(0.5, 1.0, 2.0)),
            train_cfg=dict(
                num_samples=128, pre_nms_top_n=300, post_nms_top_n=32),
            test_cfg=dict(pre_nms_top_n=300, post_nms_top_n=32)),
        context_generator=dict(type='ContextPatchGenerator', scale=2.0),
        roi_extractor=dict(
            type='PatchRoIExtractor',
            in_channels=64,
            roi_size=4,
            sampling_ratio=1,
            canonical_scale=48),
        branches=dict(type='PatchBranches', hidden_channels=256),
        loss=dict(type='ClassImbalanceBCELoss', beta=0.0),
        train_cfg=dict(
            sampler=dict(type='BalancedRandomSampler', num=64,
                         pos_fraction=0.25))),
)
train_dataloader = dict(
    dataset=dict(with_boxes=True, pipeline={{_base_.box_train_pipeline}}))
