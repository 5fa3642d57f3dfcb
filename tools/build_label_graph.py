"""Build the label state (graph, embeddings, frequencies) of a config's data.

``python tools/build_label_graph.py CONFIG --out FILE.npz`` writes the class
names, label counts, co-occurrence counts, the graph and the label embeddings
(plain arrays, ``np.load(FILE)``; ``mmcma.LabelState.load(FILE)`` reads it
back, and ``mmcma.fill_label_state(model, state)`` fills a model with it) with
the options of the config's ``LabelStateHook`` (or the defaults), and
prints a short report.
"""
import argparse
import os.path as osp
import sys
import time
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpretrain.registry import DATASETS, MODELS  # noqa: E402

import mmcma  # noqa: E402,F401
from mmcma.datasets import get_label_matrix  # noqa: E402
from mmcma.embedding import compute_label_state, describe  # noqa: E402
from mmcma.models import label_state_requirements  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument('--out', required=True, help='output .npz file')
    parser.add_argument(
        '--embed-dim', type=int,
        help="embedding size (default: what the config's model asks for; "
        'none if it asks for none)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys')
    return parser.parse_args(argv)


def hook_options(cfg: Config) -> dict:
    """The LabelStateHook options of the config, if it has the hook."""
    for hook in cfg.get('custom_hooks', []) or []:
        if hook.get('type') == 'LabelStateHook':
            return {k: v for k, v in hook.items()
                    if k in ('graph', 'embedding')}
    return {}


def requirements(cfg: Config, num_classes: int,
                 embed_dim: Optional[int]) -> dict:
    """What the config's model asks for, plus the graph and, with
    ``embed_dim``, embeddings of that size."""
    needs = dict(label_state_requirements(MODELS.build(cfg.model)))
    needs['graph'] = (num_classes, num_classes)
    if embed_dim is not None:
        needs['embedding'] = (num_classes, embed_dim)
    return needs


def main(argv=None) -> None:
    args = parse_args(argv)
    if not args.out.endswith('.npz'):
        raise SystemExit(f'--out must end with .npz, got {args.out}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    dataset_cfg['pipeline'] = []
    dataset = DATASETS.build(dataset_cfg)
    classes = dataset.metainfo['classes']

    start = time.perf_counter()
    labels = get_label_matrix(dataset)
    state = compute_label_state(
        labels, classes, requirements(cfg, len(classes), args.embed_dim),
        **hook_options(cfg))
    seconds = time.perf_counter() - start
    state.save(args.out)
    print(describe(state, seconds))
    print(f'written: {args.out}')


if __name__ == '__main__':
    main()
