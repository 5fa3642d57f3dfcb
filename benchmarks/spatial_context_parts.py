"""What a trained spatial-context model's image score is made of.

On the config's test set (its boxes loaded with ``with_boxes=True`` and moved
by the test pipeline, whose ``PackInputs`` becomes ``PackInputsWithBoxes``),
it prints:

* the mAP of the image score, of the pooled patch score alone and, for a
  model with an image branch, of the image branch alone (the parts the head
  combines in ``PatchAggregator.forward``);
* how well the test-time object patches cover the objects: for every
  ground-truth box, the best IoU of a patch of its image (median, and the
  share of boxes with a patch at IoU >= 0.5).

Example (docs/spatial_context.md, weakly supervised mode)::

    python benchmarks/spatial_context_parts.py CONFIG CHECKPOINT \\
        --cfg-options model.head.aggregation.image_branch.join=sum ...
"""
import argparse
import copy
from typing import Dict, List, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmpretrain.evaluation import AveragePrecision
from mmpretrain.registry import DATASETS
from torchvision.ops import box_iou

import mmcma  # noqa: F401  (registers the models and datasets)
from mmcma.apis import init_model


def boxed_test_set(cfg: Config):
    """The config's test dataset with its boxes packed as tensors."""
    dataset = copy.deepcopy(cfg.test_dataloader.dataset)
    dataset.with_boxes = True
    dataset.pipeline = [
        dict(step, type='PackInputsWithBoxes')
        if step['type'] == 'PackInputs' else step
        for step in dataset.pipeline
    ]
    return DATASETS.build(dataset)


@torch.no_grad()
def score_parts(model, dataset, batch_size: int = 50) -> Dict[str, object]:
    """Logits of each part (N_images, N) and every box's best patch IoU."""
    head = model.head
    parts: Dict[str, List[torch.Tensor]] = dict(image=[], patches=[],
                                                image_branch=[])
    targets, best_iou = [], []
    for start in range(0, len(dataset), batch_size):
        batch = pseudo_collate([
            dataset[i]
            for i in range(start, min(start + batch_size, len(dataset)))
        ])
        data = model.data_preprocessor(batch, False)
        samples = data['data_samples']
        pyramid = model.extract_pyramid(data['inputs'], samples)
        patches, _ = head.patches(pyramid)
        _, outputs = head.processors(pyramid, patches,
                                     head.test_cfg.refine_boxes)
        parts['patches'].append(
            head.aggregation.patch_logits(outputs, patches.is_proposal))
        parts['image'].append(head(pyramid))
        if head.aggregation.image_classifier is not None:
            parts['image_branch'].append(
                head.aggregation.image_branch_logits(pyramid))
        targets.append(torch.stack([s.gt_score for s in samples]))
        for sample, boxes in zip(samples, patches.object_boxes):
            if len(sample.gt_bboxes):
                best_iou.append(box_iou(sample.gt_bboxes, boxes).max(1).values
                                if len(boxes) else
                                sample.gt_bboxes.new_zeros(
                                    len(sample.gt_bboxes)))
    return dict(logits={k: torch.cat(v)
                        for k, v in parts.items() if v},
                targets=torch.cat(targets),
                best_iou=torch.cat(best_iou))


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--batch-size', type=int, default=50)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model = init_model(args.config, args.checkpoint,
                       cfg_options=args.cfg_options)
    found = score_parts(model, boxed_test_set(model._config),
                        args.batch_size)
    rows = {
        name: float(AveragePrecision.calculate(logits, found['targets']))
        for name, logits in found['logits'].items()
    }
    iou = found['best_iou']
    print('| image score from | mAP |\n| --- | --- |')
    for name, value in rows.items():
        print(f'| {name} | {value:.2f} |')
    print(f'\n{len(iou)} boxes: best patch IoU median '
          f'{iou.median().item():.2f}, IoU >= 0.5 for '
          f'{100 * (iou >= 0.5).float().mean().item():.1f} %')
    return dict(rows, iou_median=iou.median().item(),
                iou_share=(iou >= 0.5).float().mean().item())


if __name__ == '__main__':
    main()
