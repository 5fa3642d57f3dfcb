"""benchmarks/spatial_context_parts.py on tiny generated scenes."""

import pytest
import torch

from tests.helpers.demo_models import CONFIGS, random_model, save_checkpoint
from mmcma.datasets.synthetic_scenes import generate

import spatial_context_parts as parts

WEAK = {
    'model.head.train_cfg': None,
    'model.head.aggregation.image_branch': dict(join='sum'),
    'model.head.patch_generator': dict(
        _delete_=True, type='AnchorPatchGenerator',
        anchor_generator=dict(sizes=[[16], [32]]), levels=[2, 3]),
}


@pytest.mark.slow
def test_parts_add_up_and_cover_the_boxes(tmp_path, capsys):
    generate(str(tmp_path / 'scenes'), num_train=1, num_val=6, size=64,
             seed=0)
    options = dict(WEAK, **{'test_dataloader.dataset.data_root':
                            str(tmp_path / 'scenes')})
    model = random_model(CONFIGS['spatial-context'], cfg_options=options)
    ckpt = save_checkpoint(model, str(tmp_path / 'weak.pth'))
    dataset = parts.boxed_test_set(model._config)
    found = parts.score_parts(model, dataset, batch_size=4)
    logits = found['logits']
    assert sorted(logits) == ['image', 'image_branch', 'patches']
    # 'sum': the image logit is the patch logit plus the branch's.
    torch.testing.assert_close(logits['image'],
                               logits['patches'] + logits['image_branch'])
    # Every box of the 6 images gets its best IoU with the 60 anchors.
    boxes = [dataset[i]['data_samples'].gt_bboxes for i in range(6)]
    assert len(found['best_iou']) == sum(len(b) for b in boxes)
    assert ((found['best_iou'] > 0) & (found['best_iou'] <= 1)).all()
    cli = ['--cfg-options'] + [f'{k}={v}' for k, v in {
        'model.head.train_cfg': 'None',
        'model.head.aggregation.image_branch.join': 'sum',
        'model.head.patch_generator._delete_': 'True',
        'model.head.patch_generator.type': 'AnchorPatchGenerator',
        'model.head.patch_generator.anchor_generator.sizes': '[[16],[32]]',
        'model.head.patch_generator.levels': '[2,3]',
        'test_dataloader.dataset.data_root': str(tmp_path / 'scenes'),
    }.items()]
    result = parts.main([CONFIGS['spatial-context'], ckpt] + cli)
    assert set(result) == {'image', 'patches', 'image_branch', 'iou_median',
                           'iou_share'}
    assert '| image_branch |' in capsys.readouterr().out
