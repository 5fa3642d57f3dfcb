# Real-photo mosaics: the spatial-context config trained weakly supervised,
# from the image-level labels alone (no boxes loaded): fixed anchor patches
# (32 and 48 px, three ratios, on P4 and P5) instead of the RPN, which cannot
# learn without boxes, and the image-level branch (image_branch='sum', the
# fix docs/spatial_context.md keeps for this mode).
_base_ = [
    './spatial-context_efficientnet-lite0_1xb16-coslr-4e_photo-mosaics-96px.py'
]

model = dict(
    head=dict(
        box_supervision=False,
        image_branch='sum',
        refine='none',
        patch_generator=dict(
            _delete_=True,
            type='AnchorPatchGenerator',
            anchor_sizes=((32, ), (48, )),
            levels=(2, 3))))
train_dataloader = dict(
    dataset=dict(with_boxes=False, pipeline={{_base_.train_pipeline}}))
