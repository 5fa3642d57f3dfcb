"""Plot the attention of one label over the frames of one video (Fig. 5).

Usage::

    python tools/visualize_frame_attention.py CONFIG CKPT \\
        --video-id ID --label NAME_OR_INDEX --out fig.png

The video is looked up in the dataset of ``test_dataloader`` (``--split
val`` for ``val_dataloader``). The head must provide ``get_attention``
(e.g. ``CMAHead``). With SNet each attention step covers
``backbone.temporal_stride`` (16) frames and is drawn over those frames.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmpretrain.apis import get_model  # noqa: E402
from mmpretrain.registry import DATASETS  # noqa: E402

import mmcma  # noqa: E402,F401  (registers the components)
from mmcma.io.cli import ConfigOptions  # noqa: E402
from mmcma.models.capabilities import model_capabilities  # noqa: E402
from mmcma.visualization import plot_frame_attention, resolve_label  # noqa
from mmcma.io.cli import add_debug_arg, exit_on_input_error  # noqa: E402


def find_video(dataset, video_id: str) -> int:
    """Index of the one sample of ``video_id`` in ``dataset``."""
    found = [
        i for i in range(len(dataset))
        if dataset.get_data_info(i)['video_id'] == video_id
    ]
    if not found:
        raise ValueError(f'Video {video_id!r} is not in the dataset.')
    if len(found) > 1:
        raise ValueError(
            f'Video {video_id!r} has {len(found)} samples (segment level); '
            'use a video-level dataset, e.g. --cfg-options '
            'test_dataloader.dataset.label_level=video')
    return found[0]


def frame_attention(model, sample: dict,
                    label: int) -> Tuple[np.ndarray, np.ndarray]:
    """Attention of ``label`` over the valid steps, and the class scores.

    Args:
        model: A :class:`~mmcma.models.classifiers.VideoClassifier` in eval
            mode whose head has ``get_attention``.
        sample (dict): One dataset item (``inputs``, ``data_samples``).
        label (int): Class index.

    Returns:
        tuple: Attention (T',) of the valid steps and probabilities (N,).
    """
    if not model_capabilities(model).attention:
        raise TypeError(f'{type(model.head).__name__} has no get_attention.')
    batch = model.data_preprocessor(pseudo_collate([sample]))
    with torch.no_grad():
        feats = model.extract_feat(batch['inputs'], mask=batch['mask'])
        attention = model.head.get_attention(feats)[-1]
        scores = model.head.predict(feats)[0].pred_score
    valid = None if feats[-1].mask is None else feats[-1].mask[0]
    steps = attention[0, label]
    if valid is not None:
        steps = steps[valid]
    return steps.cpu().numpy(), scores.cpu().numpy()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Plot per-frame attention of one label for one video.')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--video-id', required=True)
    parser.add_argument('--label', required=True, help='class name or index')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument(
        '--split', choices=('test', 'val'), default='test',
        help='dataloader whose dataset holds the video')
    parser.add_argument('--topk', type=int, default=3,
                        help='predictions listed in the title')
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptions,
                        help='override config settings')
    add_debug_arg(parser)
    return parser.parse_args(argv)


@exit_on_input_error
def main(argv: Optional[List[str]] = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    dataset_cfg = cfg[f'{args.split}_dataloader']['dataset']
    dataset = DATASETS.build(dataset_cfg)
    classes = dataset.metainfo['classes']
    label = resolve_label(args.label, classes)
    sample = dataset[find_video(dataset, args.video_id)]

    model = get_model(cfg, pretrained=args.checkpoint, device='cpu').eval()
    steps, scores = frame_attention(model, sample, label)

    top = np.argsort(-scores, kind='stable')[:args.topk]
    truth = [classes[i] for i in sample['data_samples'].gt_label.tolist()]
    title = (f'video {args.video_id}: attention of "{classes[label]}" '
             f'(score {scores[label]:.2f})\n'
             'top predictions: ' +
             ', '.join(f'{classes[i]} {scores[i]:.2f}' for i in top) +
             f'  |  ground truth: {", ".join(truth) or "-"}')
    plot_frame_attention(
        steps,
        args.out,
        num_frames=sample['data_samples'].num_frames,
        temporal_stride=getattr(model.backbone, 'temporal_stride', 1),
        title=title)
    print(f'Wrote {args.out}')


if __name__ == '__main__':
    main()
