"""The spatial-context network's cost options compute what they claim:
one RoIAlign call for object and context patches equals separate calls,
a channel reduction before RoIAlign equals the same 1x1 conv after it, and
the RPN's narrow head and level choice run where they are told to."""
from collections import OrderedDict

import pytest
import torch
from torch.nn import functional as F
from torchvision.ops import MultiScaleRoIAlign

from mmcma.models.dense_heads import NarrowRPNHead, RPNPatchGenerator
from mmcma.models.roi_heads import (PatchBranches, PatchRoIExtractor,
                                    split_groups)
from mmcma.models.task_modules import expand_boxes
from mmcma.models.utils.patch_types import ImagePyramid, Patches

SIZE = 64
CHANNELS = 8


def pyramid(batch=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    maps = tuple(
        torch.randn(batch, CHANNELS, SIZE // s, SIZE // s, generator=gen)
        for s in (4, 8, 16, 32))
    return ImagePyramid(maps, (SIZE, SIZE), [(SIZE, SIZE), (48, 56)])


def random_boxes(n, seed):
    """``n`` boxes of 2-40 px inside the 64 px image (all pyramid levels)."""
    gen = torch.Generator().manual_seed(seed)
    corner = torch.rand(n, 2, generator=gen) * 20
    side = 2 + torch.rand(n, 2, generator=gen) * 38
    return torch.cat([corner, corner + side], dim=1)


def patches(counts=(5, 3)):
    objects = [random_boxes(n, i) for i, n in enumerate(counts)]
    context = [expand_boxes(b, 2.0, (SIZE, SIZE)) for b in objects]
    return Patches(objects, context, [torch.ones(len(b), dtype=torch.bool)
                                      for b in objects])


def reference_pool(pyr, boxes, maps=None):
    """torchvision's MultiScaleRoIAlign on one list of boxes, as the
    branches configure it."""
    pooler = MultiScaleRoIAlign(['0', '1', '2', '3'], 3, 2,
                                canonical_scale=16, canonical_level=4)
    maps = pyr.maps if maps is None else maps
    return pooler(OrderedDict(zip('0123', maps)), boxes,
                  [(SIZE, SIZE)] * len(boxes))


def branches(**kwargs):
    """The RoI extractor and the branches on its features."""
    torch.manual_seed(0)
    extractor = PatchRoIExtractor(CHANNELS, roi_size=3, canonical_scale=16,
                                  **kwargs)
    return extractor, PatchBranches(5, extractor.out_features,
                                    hidden_channels=16)


def test_split_groups_by_hand():
    # Image 0: 2 rows of group a, 1 of b; image 1: 1 of a, 2 of b.
    feats = torch.tensor([10., 11., 20., 12., 21., 22.])
    groups = ([torch.zeros(2, 4), torch.zeros(1, 4)],
              [torch.zeros(1, 4), torch.zeros(2, 4)])
    a, b = split_groups(feats, groups)
    assert a.tolist() == [10., 11., 12.]
    assert b.tolist() == [20., 21., 22.]


def test_one_pooling_call_equals_separate_calls():
    pyr, p = pyramid(), patches()
    extractor, _ = branches()
    objects, context = extractor(pyr, p.object_boxes, p.context_boxes)
    torch.testing.assert_close(objects, reference_pool(pyr, p.object_boxes))
    torch.testing.assert_close(context, reference_pool(pyr, p.context_boxes))


def test_forward_equals_the_separate_branch_passes():
    pyr, p = pyramid(), patches()
    extractor, model = branches()
    model.eval()
    out = model(*extractor(pyr, p.object_boxes, p.context_boxes))
    # The branches one by one, each from its own RoIAlign call.
    obj = model.object_head(reference_pool(pyr, p.object_boxes))
    ctx = model.context_head(reference_pool(pyr, p.context_boxes))
    torch.testing.assert_close(out.deltas, model.location_regressor(obj))
    torch.testing.assert_close(out.objectness,
                               model.patch_classifier(obj).squeeze(1))
    torch.testing.assert_close(out.object_logits,
                               model.object_label_predictor(obj))
    torch.testing.assert_close(out.context_logits,
                               model.context_label_predictor(ctx))
    # The label predictors alone: the same.
    obj_logits, ctx_logits = model.label_logits(
        reference_pool(pyr, p.object_boxes),
        reference_pool(pyr, p.context_boxes))
    torch.testing.assert_close(obj_logits, out.object_logits)
    torch.testing.assert_close(ctx_logits, out.context_logits)


def test_channel_reduction_before_pooling_equals_after():
    pyr, p = pyramid(), patches()
    extractor, model = branches(out_channels=3)
    assert model.object_head.fc6.in_features == 3 * 3 * 3
    pooled, = extractor(pyr, p.object_boxes)
    # RoIAlign is linear: the 1x1 conv on the pooled full-width features.
    want = F.conv2d(reference_pool(pyr, p.object_boxes),
                    extractor.reducer.weight, extractor.reducer.bias)
    torch.testing.assert_close(pooled, want, rtol=1e-4, atol=1e-5)
    out = model(*extractor(pyr, p.object_boxes, p.context_boxes))
    assert out.object_logits.shape == out.context_logits.shape == (8, 5)
    assert out.deltas.shape == (8, 4) and out.objectness.shape == (8, )


def test_narrow_rpn_head_shapes_and_width():
    head = NarrowRPNHead(CHANNELS, num_anchors=3, channels=4, conv_depth=2)
    maps = list(pyramid().maps[:2])
    logits, deltas = head(maps)
    assert [tuple(t.shape) for t in logits] == [(2, 3, 16, 16),
                                                (2, 3, 8, 8)]
    assert [tuple(t.shape) for t in deltas] == [(2, 12, 16, 16),
                                                (2, 12, 8, 8)]
    assert [m.out_channels for m in head.conv
            if isinstance(m, torch.nn.Conv2d)] == [4, 4]


def test_rpn_runs_on_the_chosen_levels_only():
    generator = RPNPatchGenerator(
        CHANNELS, anchor_generator=dict(sizes=((8, ), (16, ), (32, ))),
        train_cfg=dict(pre_nms_top_n=50, post_nms_top_n=20),
        test_cfg=dict(pre_nms_top_n=50, post_nms_top_n=20),
        head=dict(channels=4, levels=(1, 2, 3))).eval()
    assert isinstance(generator.rpn.head, NarrowRPNHead)
    seen = []
    generator.rpn.head.register_forward_pre_hook(
        lambda module, args: seen.append([m.shape[-1] for m in args[0]]))
    with torch.no_grad():
        proposals = generator(pyramid())
    assert seen == [[8, 4, 2]]  # P3-P5 of a 64 px input, not P2
    assert [len(b) for b in proposals.boxes] == [20, 20]
    for boxes, (h, w) in zip(proposals.boxes, pyramid().image_sizes):
        assert float(boxes[:, 2].max()) <= w and float(boxes[:, 3].max()) <= h


def test_rpn_default_head_is_torchvisions():
    generator = RPNPatchGenerator(CHANNELS)
    assert type(generator.rpn.head).__name__ == 'RPNHead'
    assert generator.levels is None


@pytest.mark.parametrize('head, match', [
    (dict(levels=(1, 2)), 'same length'),
    (dict(width=4), 'head takes channels, levels, conv_depth; got unknown '
     'width'),
])
def test_rpn_head_options_checked(head, match):
    with pytest.raises(ValueError, match=match):
        RPNPatchGenerator(CHANNELS,
                          anchor_generator=dict(sizes=((8, ), (16, ),
                                                       (32, ))),
                          head=head)


def test_rpn_levels_beyond_the_pyramid_raise():
    generator = RPNPatchGenerator(
        CHANNELS, anchor_generator=dict(sizes=((8, ), (16, ), (32, ))),
        head=dict(levels=(2, 3, 4))).eval()
    with pytest.raises(ValueError, match='exceed'):
        generator(pyramid())
