"""Build the label state (graph, label vectors, frequencies) of a config's data.

``python tools/build_label_graph.py CONFIG --out FILE.npz`` writes the class
names, label counts, co-occurrence counts, the graph and the label vectors
(plain arrays, ``np.load(FILE)``; ``mmcma.LabelState.load(FILE)`` reads it
back, ``mmcma.fill_label_state(model, state)`` fills a model with it, and
``LabelStateHook(embedding=dict(type='file', path=FILE))`` takes its vectors)
with the options of the config's ``LabelStateHook`` (or the defaults), and
prints a short report. Any config with a ``train_dataloader`` works, a
dataset config without a model too; for example, GloVe vectors and the
ML-GCN graph of a dataset::

    python tools/build_label_graph.py CONFIG --embedding glove \
        --graph kind=mlgcn variant=released --out vectors.npz

or KSSNet's KS graph with a knowledge graph (``--knowledge wordnet``, a
ConceptNet ``.csv[.gz]`` or a file of ``tools/build_knowledge_graph.py``)::

    python tools/build_label_graph.py CONFIG --graph kind=ks lam=0.4 \
        tau=0.02 eta=0.4 --knowledge voc_wordnet.npz --out ks.npz
"""
import argparse
import os.path as osp
import sys
import time
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402
from mmpretrain.registry import MODELS  # noqa: E402

import mmcma  # noqa: E402,F401
from mmcma.io.cli import ConfigOptions  # noqa: E402
from mmcma.datasets import get_label_matrix  # noqa: E402
from mmcma.datasets.from_config import build_train_dataset  # noqa: E402
from mmcma.labels.graphs import graph_option_names  # noqa: E402
from mmcma.labels.vectors import EMBEDDING_SOURCES  # noqa: E402
from mmcma.labels import compute_label_state, describe  # noqa: E402
from mmcma.models import label_state_requirements  # noqa: E402
from mmcma.engine.cli import (add_debug_arg,  # noqa: E402
                              exit_on_input_error)
from mmcma.io import InputOptionError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument('--out', required=True, help='output .npz file')
    parser.add_argument(
        '--embedding', metavar='SOURCE',
        help='label vector source: ' + ', '.join(sorted(EMBEDDING_SOURCES)) +
        " (default: the config's LabelStateHook's; none without one)")
    parser.add_argument(
        '--embedding-options', nargs='+', action=DictAction, default={},
        metavar='KEY=VALUE',
        help='options of the source, e.g. path=glove.840B.300d.txt')
    parser.add_argument(
        '--graph', nargs='+', action=DictAction, default={},
        metavar='KEY=VALUE',
        help="graph options over the config's, e.g. kind=mlgcn "
        'variant=released t=0.4')
    parser.add_argument(
        '--knowledge', metavar='SOURCE',
        help="the knowledge graph of --graph kind=ks: 'wordnet', a "
        'ConceptNet assertions file (.csv, .csv.gz) or a knowledge graph '
        'file (.npz)')
    parser.add_argument(
        '--embed-dim', type=int,
        help="embedding size (default: with --embedding the source's own "
        "size, else what the config's model asks for)")
    parser.add_argument(
        '--cfg-options', nargs='+', action=ConfigOptions,
        help='override config keys')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def hook_options(cfg: Config) -> dict:
    """The LabelStateHook options of the config, if it has the hook."""
    for hook in cfg.get('custom_hooks', []) or []:
        if hook.get('type') == 'LabelStateHook':
            return {k: dict(v or {}) for k, v in hook.items()
                    if k in ('graph', 'embedding')}
    return {}


def label_state_options(cfg: Config, args: argparse.Namespace) -> dict:
    """Graph and embedding options: the config's hook, then the flags.

    ``--embedding`` with another source than the hook's drops the hook's
    source options (they belong to that source); likewise ``--graph kind=``
    with another kind than the hook's drops the hook's graph options that
    the new kind does not take (``variant`` and ``t`` carry over from
    ``'mlgcn'`` to ``'ks'``, ``p`` does not).
    """
    options = hook_options(cfg)
    graph = dict(options.get('graph', {}))
    if 'kind' in args.graph and args.graph['kind'] != graph.get(
            'kind', 'conditional'):
        accepted = graph_option_names(args.graph['kind'])
        graph = {k: v for k, v in graph.items() if k in accepted}
    options['graph'] = {**graph, **args.graph}
    if args.knowledge is not None:
        options['graph']['knowledge'] = knowledge_options(args.knowledge)
    embedding = options.get('embedding')
    if args.embedding is not None:
        if embedding is None or embedding.get('type', 'asge') != \
                args.embedding:
            embedding = {}
        embedding['type'] = args.embedding
    if args.embedding_options:
        if embedding is None:
            raise InputOptionError(
                '--embedding-options needs --embedding (the '
                'config has no LabelStateHook)')
        embedding.update(args.embedding_options)
    if embedding is not None:
        options['embedding'] = embedding
    return options


def knowledge_options(source: str) -> dict:
    """The ``knowledge`` dict that ``--knowledge SOURCE`` stands for."""
    if source == 'wordnet':
        return dict(type='wordnet')
    if source.endswith('.npz'):
        return dict(type='file', path=source)
    if source.endswith(('.csv', '.csv.gz')):
        return dict(type='conceptnet', path=source)
    raise InputOptionError(f"--knowledge must be 'wordnet', a .csv/.csv.gz "
                           f'ConceptNet file or a .npz graph, got {source}')


def requirements(cfg: Config, num_classes: int, embed_dim: Optional[int],
                 with_embedding: bool) -> dict:
    """What the config's model asks for (if it has a model), plus the graph.

    Label vectors are written with ``embed_dim`` when given; with
    ``with_embedding`` (an explicit ``--embedding``) in the source's own
    size otherwise, else in the size the model asks for, if any.
    """
    needs = dict(label_state_requirements(MODELS.build(cfg.model))) \
        if cfg.get('model') else {}
    needs['graph'] = (num_classes, num_classes)
    if embed_dim is not None or with_embedding:
        needs['embedding'] = (num_classes, embed_dim)
    return needs


@exit_on_input_error(also=(ImportError, OSError, ValueError))
def main(argv=None) -> None:
    args = parse_args(argv)
    if not args.out.endswith('.npz'):
        raise InputOptionError(f'--out must end with .npz, got {args.out}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    dataset = build_train_dataset(cfg)
    classes = dataset.metainfo['classes']

    start = time.perf_counter()
    labels = get_label_matrix(dataset)
    options = label_state_options(cfg, args)
    state = compute_label_state(
        labels, classes,
        requirements(cfg, len(classes), args.embed_dim,
                     args.embedding is not None), **options)
    seconds = time.perf_counter() - start
    state.save(args.out)
    print(describe(state, seconds))
    print(f'written: {args.out}')


if __name__ == '__main__':
    main()
