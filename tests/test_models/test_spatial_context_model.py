"""The spatial-context classifier end to end on tiny data: the generated
scenes through the box-aware pipeline, losses that fall, the weakly
supervised mode, predictions like mmpretrain's multi-label heads, and the
errors for missing boxes."""
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torchvision.ops import box_iou

import mmcma  # noqa: F401  (registers everything)
from mmcma.datasets import CocoMultiLabel
from mmcma.datasets.synthetic_scenes import generate
from mmcma.models.classifiers import image_sizes
from mmcma.models.roi_heads import patch_scores, top_patches
from mmcma.models.task_modules import expand_boxes
from mmcma.models.utils.patch_types import (ImagePyramid, PatchPredictions,
                                            Patches)

NUM_CLASSES = 12
SIZE = 32


#: The box-supervised training config of the tests' head.
TRAIN_CFG = dict(sampler=dict(type='BalancedRandomSampler', num=16))
#: The weakly supervised mode: anchors, no box training.
WEAK = dict(train_cfg=None,
            patch_generator=dict(type='AnchorPatchGenerator',
                                 anchor_generator=dict(sizes=((8, ),
                                                              (16, ))),
                                 levels=(1, 2)))
#: Which boxes the label predictors classify, as configs: the proposals
#: ('none'), the regressed boxes at test time ('test', the default with
#: boxes), in training too ('cascade').
REFINE = {
    'none': dict(test_cfg=dict(refine_boxes=False)),
    'test': dict(test_cfg=dict(refine_boxes=True)),
    'cascade': dict(train_cfg=dict(TRAIN_CFG, refine_boxes=True),
                    test_cfg=dict(refine_boxes=True)),
}


def image_branch(join):
    return dict(aggregation=dict(type='PatchAggregator',
                                 image_branch=dict(join=join)))


def model_cfg(**head):
    generator = dict(type='RPNPatchGenerator',
                     anchor_generator=dict(
                         sizes=((4, ), (8, ), (16, ), (32, ))),
                     train_cfg=dict(num_samples=32, pre_nms_top_n=50,
                                    post_nms_top_n=16),
                     test_cfg=dict(pre_nms_top_n=50, post_nms_top_n=8))
    head_cfg = dict(type='SpatialContextHead', num_classes=NUM_CLASSES,
                    patch_generator=generator,
                    roi_extractor=dict(type='PatchRoIExtractor',
                                       in_channels=16, roi_size=2,
                                       canonical_scale=16),
                    branches=dict(type='PatchBranches', hidden_channels=32),
                    train_cfg=TRAIN_CFG)
    head_cfg.update(head)
    return dict(
        type='SpatialContextClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor',
                               num_classes=NUM_CLASSES, mean=[128.] * 3,
                               std=[64.] * 3, to_onehot=True,
                               pad_size_divisor=32),
        backbone=dict(type='ResNet', depth=18, stem_channels=8,
                      base_channels=8, out_indices=(0, 1, 2, 3)),
        neck=dict(type='FeaturePyramidNeck', in_channels=(8, 16, 32, 64),
                  out_channels=16),
        head=head_cfg)


def build(**head):
    torch.manual_seed(0)
    return MODELS.build(model_cfg(**head))


@pytest.fixture(scope='module')
def batch(tmp_path_factory):
    """Eight generated 32 px scenes with their boxes, through the pipeline
    and the data preprocessor."""
    root = tmp_path_factory.mktemp('scenes')
    generate(str(root), num_train=8, num_val=1, size=SIZE, seed=1)
    ds = CocoMultiLabel(
        ann_file='annotations/instances_train.json', data_root=str(root),
        data_prefix='train', drop_empty=False, with_boxes=True,
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='PackInputsWithBoxes')])
    return pseudo_collate([ds[i] for i in range(len(ds))])


def train_losses(model, batch, steps):
    data = model.data_preprocessor(batch, True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    history = []
    for _ in range(steps):
        losses = model(data['inputs'], data['data_samples'], mode='loss')
        total = sum(losses.values())
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        history.append({k: v.item() for k, v in losses.items()})
    return history


def objectness_on(model, batch, boxes_of):
    """Patch-classifier probabilities of the patches ``boxes_of(gt)``."""
    data = model.data_preprocessor(batch, False)
    model.eval()
    with torch.no_grad():
        pyramid = model.extract_pyramid(data['inputs'], data['data_samples'])
        boxes = [boxes_of(s.gt_bboxes) for s in data['data_samples']]
        patches = Patches(boxes, boxes, [torch.ones(len(b)) for b in boxes])
        return model.head.run_branches(pyramid,
                                       patches).objectness.sigmoid()


def background_boxes(gt):
    """8 px boxes on a 4 px grid that overlap no ground-truth box."""
    xy = torch.arange(0, SIZE - 7, 4.)
    grid = torch.cartesian_prod(xy, xy)
    boxes = torch.cat([grid, grid + 8], dim=1)
    return boxes[box_iou(boxes, gt).max(dim=1).values == 0]


@pytest.mark.slow
def test_losses_fall_with_boxes(batch):
    model = build()
    torch.manual_seed(0)
    history = train_losses(model, batch, 30)
    assert set(history[0]) == {
        'loss_proposal_objectness', 'loss_proposal_box', 'loss_location',
        'loss_patch', 'loss_object_label', 'loss_context_label', 'loss_image'}

    def mean(key, steps):
        return sum(h[key] for h in steps) / len(steps)

    # The location and patch losses are taken over the proposals, which
    # move towards the objects as the RPN learns (more, harder object
    # patches): they need not fall. The others have fixed targets.
    for key in ('loss_proposal_objectness', 'loss_object_label',
                'loss_context_label', 'loss_image'):
        assert mean(key, history[-3:]) < 0.8 * mean(key, history[:3]), key
    total = [{'total': sum(h.values())} for h in history]
    assert mean('total', total[-3:]) < 0.7 * mean('total', total[:3])
    # The patch classifier tells the objects from the background.
    assert objectness_on(model, batch, lambda gt: gt).mean() > 2 * \
        objectness_on(model, batch, background_boxes).mean()


@pytest.mark.parametrize('join', [None, 'sum'])
def test_weakly_supervised_mode_learns_from_labels_alone(batch, join):
    model = build(**WEAK, **(image_branch(join) if join else {}))
    stripped = dict(batch)
    stripped['data_samples'] = [
        DataSample(metainfo=s.metainfo).set_gt_label(s.gt_label)
        for s in batch['data_samples']
    ]
    torch.manual_seed(0)
    history = train_losses(model, stripped, 25)
    assert set(history[0]) == {'loss_image'}
    assert history[-1]['loss_image'] < 0.8 * history[0]['loss_image']


def test_image_branch_joins_the_patch_score(batch):
    model = build(**image_branch('mean')).eval()
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        pyramid = model.extract_pyramid(data['inputs'], data['data_samples'])
        patch_probs = torch.stack([
            p.scores.max(0).values for p in model.head.predict_patches(pyramid)
        ])
        image_probs = model.head.aggregation.image_branch_logits(
            pyramid).sigmoid()
        probs = model.head(pyramid).sigmoid()
    torch.testing.assert_close(probs, (patch_probs + image_probs) / 2)
    with pytest.raises(ValueError, match='image_branch join must be one'):
        build(**image_branch('max'))


def test_box_supervision_needs_boxes(batch):
    model = build()
    samples = [DataSample(metainfo=dict(img_path=f'x/00{i}.png'))
               for i in range(2)]
    for sample in samples:
        sample.set_gt_label([1])
    inputs = torch.zeros(2, 3, SIZE, SIZE)
    with pytest.raises(ValueError, match='000.png has no gt_bboxes.*'
                       'with_boxes=True'):
        model(inputs, samples, mode='loss')
    with pytest.raises(ValueError, match='use AnchorPatchGenerator'):
        build(train_cfg=None)


def test_rpn_generator_refuses_to_train_without_boxes():
    from mmcma.models.dense_heads import RPNPatchGenerator
    generator = RPNPatchGenerator(in_channels=4).train()
    maps = tuple(torch.zeros(1, 4, SIZE // s, SIZE // s) for s in (4, 8))
    with pytest.raises(ValueError, match='learns from ground-truth boxes'):
        generator(ImagePyramid(maps, (SIZE, SIZE), [(SIZE, SIZE)]))


def test_thr_and_topk_belong_in_test_cfg():
    """mmpretrain's head-level ``thr`` is refused with where it goes; the
    ``test_cfg`` one sets the head's label rule."""
    with pytest.raises(TypeError, match=r'model\.head\.test_cfg\.thr'):
        build(thr=0.4)
    with pytest.raises(TypeError, match='unexpected arguments: colour'):
        build(colour='red')
    head = build(test_cfg=dict(thr=0.4)).head
    assert (head.thr, head.topk) == (0.4, None)


def test_box_labels_outside_the_head_raise(batch):
    samples = [DataSample().set_gt_label([1]) for _ in range(2)]
    for sample in samples:
        sample.gt_bboxes = torch.tensor([[0., 0., 8., 8.]])
        sample.gt_bboxes_labels = torch.tensor([NUM_CLASSES])
    with pytest.raises(ValueError, match='outside 0..11'):
        build()(torch.zeros(2, 3, SIZE, SIZE), samples, mode='loss')


def test_predict_like_a_multilabel_head(batch):
    model = build().eval()
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        samples = model(data['inputs'], data['data_samples'], mode='predict')
        probs = model(data['inputs'], mode='tensor').sigmoid()
    assert len(samples) == 8
    for sample, prob in zip(samples, probs):
        assert sample.pred_score.shape == (NUM_CLASSES, )
        assert sample.pred_score.dtype == torch.float32
        torch.testing.assert_close(sample.pred_score, prob)
        assert ((prob >= 0) & (prob <= 1)).all()
        assert sample.pred_label.tolist() == torch.nonzero(
            prob >= 0.5).flatten().tolist()
    # No data samples: one new DataSample per image.
    with torch.no_grad():
        assert len(model(data['inputs'], mode='predict')) == 8


def test_predict_patches_and_top_patches(batch):
    model = build().eval()
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        preds = model.predict_patches(data['inputs'], data['data_samples'])
        probs = model(data['inputs'], mode='tensor').sigmoid()
    assert len(preds) == 8 and isinstance(preds[0], PatchPredictions)
    for pred, prob in zip(preds, probs):
        # The image score is the maximum patch score (pool_topk=1).
        torch.testing.assert_close(pred.scores.max(dim=0).values, prob)
        assert (pred.boxes >= 0).all() and (pred.boxes <= SIZE).all()
        # Context patches of the regressed boxes (refine='test').
        assert (pred.context_boxes[:, 2:] - pred.context_boxes[:, :2] >=
                pred.boxes[:, 2:] - pred.boxes[:, :2] - 1e-4).all()
    top = top_patches(preds[0], k=3)
    assert top.boxes.shape == (3, 4) and top.labels.shape == (3, )
    assert (top.scores[:-1] >= top.scores[1:]).all()


#: Offsets the forced location regressor gives every patch, and what they
#: do with the weights (10, 10, 5, 5): the centre moves by (+0.1 w, -0.2 h),
#: the width grows by exp(0.2), the height shrinks by exp(-0.1).
FORCED = torch.tensor([1.0, -2.0, 1.0, -0.5])


def forced_model(refine):
    model = build(**REFINE[refine])
    with torch.no_grad():
        model.head.branches.location_regressor.weight.zero_()
        model.head.branches.location_regressor.bias.copy_(FORCED)
    return model


def moved_by_hand(boxes, size):
    """``FORCED`` applied to ``boxes`` (K, 4), clipped to ``size``."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    cx = (boxes[:, 0] + boxes[:, 2]) / 2 + 0.1 * w
    cy = (boxes[:, 1] + boxes[:, 3]) / 2 - 0.2 * h
    w, h = w * torch.exp(torch.tensor(0.2)), h * torch.exp(torch.tensor(-0.1))
    moved = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    return torch.stack([moved[:, 0].clamp(0, size[1]),
                        moved[:, 1].clamp(0, size[0]),
                        moved[:, 2].clamp(0, size[1]),
                        moved[:, 3].clamp(0, size[0])], 1)


@pytest.mark.parametrize('refine', ['test', 'none'])
def test_label_predictors_classify_the_regressed_boxes(batch, refine):
    model = forced_model(refine).eval()
    data = model.data_preprocessor(batch, False)
    head = model.head
    with torch.no_grad():
        pyramid = model.extract_pyramid(data['inputs'], data['data_samples'])
        preds = head.predict_patches(pyramid)
        proposals, _ = head.patches(pyramid)
        on_proposals = head.run_branches(pyramid, proposals)
        moved = [moved_by_hand(p, size) for p, size in zip(
            proposals.object_boxes, pyramid.image_sizes)]
        contexts = [expand_boxes(b, 2.0, size)
                    for b, size in zip(moved, pyramid.image_sizes)]
        on_moved = head.run_branches(pyramid,
                                     Patches(moved, contexts, None))
        image_probs = head(pyramid).sigmoid()
    used = on_moved if refine == 'test' else on_proposals
    # Objectness is the patch classifier's on the proposals; the label
    # logits come from the boxes that refine names.
    expected = patch_scores(on_proposals.objectness, used.object_logits,
                            used.context_logits).split(proposals.counts)
    for i, pred in enumerate(preds):
        torch.testing.assert_close(pred.boxes, moved[i])
        torch.testing.assert_close(
            pred.context_boxes,
            contexts[i] if refine == 'test' else proposals.context_boxes[i])
        torch.testing.assert_close(pred.scores, expected[i])
        torch.testing.assert_close(pred.scores.max(0).values, image_probs[i])
    assert not torch.allclose(on_moved.object_logits,
                              on_proposals.object_logits)


@pytest.mark.parametrize('refine, label_pass', [('test', False),
                                                ('cascade', True)])
def test_training_refines_only_in_cascade(batch, refine, label_pass):
    model = forced_model(refine).train()
    data = model.data_preprocessor(batch, True)
    calls = []
    extractor = model.head.roi_extractor
    pool = extractor.forward
    # Every RoIAlign call, with the object boxes it pools (its first group):
    # the object branch always pools the proposals first; the label
    # predictors' pass is the last call, with the context patches.
    extractor.forward = lambda p, *groups: calls.append(groups) or pool(
        p, *groups)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert torch.isfinite(sum(losses.values()))
    located, labelled = calls[0][0], calls[-1][0]
    assert len(calls) == (2 if label_pass else 1)
    assert len(calls[-1]) == 2  # object and context patches in one call
    sizes = [s.img_shape[:2] for s in data['data_samples']]
    for boxes, seen, size in zip(located, labelled, sizes):
        want = moved_by_hand(boxes, size) if label_pass else boxes
        torch.testing.assert_close(seen, want)


def test_refine_needs_box_supervision():
    assert not build(**WEAK).head.test_cfg.refine_boxes
    assert build().head.test_cfg.refine_boxes
    assert not build().head.train_cfg.refine_boxes
    with pytest.raises(ValueError, match='set test_cfg=dict.refine_boxes='
                       'False.'):
        build(**WEAK, test_cfg=dict(refine_boxes=True))
    with pytest.raises(ValueError, match='test_cfg takes refine_boxes, thr, '
                       'topk; got unknown refine'):
        build(test_cfg=dict(refine='always'))
    with pytest.raises(ValueError, match='train_cfg takes assigner, sampler'):
        build(train_cfg=dict(box_supervision=True))
    with pytest.raises(ValueError, match='roi_extractor needs in_channels'):
        build(roi_extractor=dict(type='PatchRoIExtractor'))


def test_image_sizes_from_img_shape():
    samples = [DataSample(metainfo=dict(img_shape=(20, 30, 3))), DataSample()]
    assert image_sizes(samples, (32, 32), 2) == [(20, 30), (32, 32)]
    assert image_sizes(None, (32, 64), 1) == [(32, 64)]


def test_head_checks_its_input():
    model = build().eval()
    maps = model.extract_feat(torch.zeros(1, 3, SIZE, SIZE))
    with pytest.raises(TypeError, match='expects the ImagePyramid'):
        model.head(maps)
    pyramid = ImagePyramid(tuple(maps[:3]), (SIZE, SIZE), [(SIZE, SIZE)])
    with pytest.raises(ValueError, match='num_levels=4.* got 3 pyramid'):
        model.head(pyramid)
    with pytest.raises(ValueError, match='pad_size_divisor'):
        model(torch.zeros(1, 3, SIZE + 8, SIZE), mode='tensor')


def test_checkpoints_from_before_the_mmdet_layout_load():
    """Two tensors moved (the RoI reduction to the extractor, the image
    branch to the aggregation): an older state dict loads strictly."""
    model = build(**image_branch('sum'),
                  roi_extractor=dict(type='PatchRoIExtractor', in_channels=16,
                                     roi_size=2, canonical_scale=16,
                                     out_channels=4))
    state = model.state_dict()
    old = {k.replace('head.roi_extractor.reducer.', 'head.branches.reducer.')
           .replace('head.aggregation.image_classifier.',
                    'head.image_classifier.'): v for k, v in state.items()}
    assert 'head.branches.reducer.weight' in old
    assert 'head.image_classifier.bias' in old
    fresh = build(**image_branch('sum'),
                  roi_extractor=dict(type='PatchRoIExtractor', in_channels=16,
                                     roi_size=2, canonical_scale=16,
                                     out_channels=4))
    with torch.no_grad():
        for p in fresh.parameters():
            p.zero_()
    fresh.load_state_dict(old, strict=True)
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, state[key]), key
