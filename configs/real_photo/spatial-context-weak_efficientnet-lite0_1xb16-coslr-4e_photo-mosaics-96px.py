# Real-photo mosaics: the spatial-context config trained weakly supervised,
# from the image-level labels alone (no boxes loaded): fixed anchor patches
# (32 and 48 px, three ratios, on P4 and P5) instead of the RPN, which cannot
# learn without boxes, and the image-level branch (aggregation.image_branch
# joined by 'sum', the fix docs/spatial_context.md keeps for this mode).
# train_cfg=None: no box losses; test_cfg: no box refinement (the location
# regressor is untrained).
_base_ = [
    './spatial-context_efficientnet-lite0_1xb16-coslr-4e_photo-mosaics-96px.py'
]

model = dict(
    head=dict(
        train_cfg=None,
        test_cfg=dict(refine_boxes=False),
        aggregation=dict(
            type='PatchAggregator', image_branch=dict(join='sum')),
        patch_generator=dict(
            _delete_=True,
            type='AnchorPatchGenerator',
            anchor_generator=dict(sizes=((32, ), (48, ))),
            levels=(2, 3))))
train_dataloader = dict(
    dataset=dict(with_boxes=False, pipeline={{_base_.train_pipeline}}))
