"""Build the label graph and label embeddings of a config's train set.

``python tools/build_label_graph.py CONFIG --out FILE.npz`` writes the class
names, label counts, co-occurrence counts, the graph and the label embeddings
(plain arrays, ``np.load(FILE)``), with the options of the config's
``LabelEmbeddingHook`` (or the defaults), and prints a short report.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpretrain.registry import DATASETS, MODELS  # noqa: E402

import mmcma  # noqa: E402,F401
from mmcma.datasets import get_label_matrix  # noqa: E402
from mmcma.label_semantics import compute_label_semantics, describe  # noqa
from mmcma.models.label_embedding import \
    modules_needing_label_embedding  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument('--out', required=True, help='output .npz file')
    parser.add_argument(
        '--embed-dim', type=int,
        help="embedding size (default: what the config's model asks for)")
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys')
    return parser.parse_args(argv)


def hook_options(cfg: Config) -> dict:
    """The LabelEmbeddingHook options of the config, if it has the hook."""
    for hook in cfg.get('custom_hooks', []) or []:
        if hook.get('type') == 'LabelEmbeddingHook':
            return {k: v for k, v in hook.items()
                    if k in ('graph', 'asge', 'embedding_file')}
    return {}


def model_embed_dim(cfg: Config) -> int:
    model = MODELS.build(cfg.model)
    dims = {int(m.label_embedding.shape[1])
            for _, m in modules_needing_label_embedding(model)}
    if len(dims) != 1:
        raise SystemExit('cannot tell the embedding size from the model '
                         f'(found {sorted(dims) or "none"}): pass --embed-dim')
    return dims.pop()


def main(argv=None) -> None:
    args = parse_args(argv)
    if not args.out.endswith('.npz'):
        raise SystemExit(f'--out must end with .npz, got {args.out}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    embed_dim = args.embed_dim or model_embed_dim(cfg)
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    dataset_cfg['pipeline'] = []
    dataset = DATASETS.build(dataset_cfg)
    classes = dataset.metainfo['classes']

    start = time.perf_counter()
    labels = get_label_matrix(dataset)
    sem = compute_label_semantics(labels, classes, embed_dim,
                                  **hook_options(cfg))
    seconds = time.perf_counter() - start
    sem.save(args.out)
    print(describe(sem, seconds))
    print(f'written: {args.out}')


if __name__ == '__main__':
    main()
