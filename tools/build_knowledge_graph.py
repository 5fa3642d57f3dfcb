"""Build a knowledge graph A_K over a config's class names (KSSNet).

From WordNet 3.0 (offline) or ConceptNet's assertions dump, written as a
plain ``.npz`` that ``graph=dict(kind='ks', knowledge=dict(type='file',
path=FILE))`` reads (docs/knowledge_graph.md)::

    python tools/build_knowledge_graph.py CONFIG --source wordnet \\
        --out voc_wordnet.npz
    python tools/build_knowledge_graph.py CONFIG --source conceptnet \\
        --conceptnet conceptnet-assertions-5.7.0.csv.gz \\
        --synonyms '{"tvmonitor": ["tv", "television"]}' --out coco_cn.npz

The class names come from the config's training set (or, if its files are
missing, the dataset class's own names, as for VOC). Prints the number of
edges, the strongest pairs and the labels without any edge.
"""
import argparse
import json
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402

import mmcma  # noqa: E402,F401
from mmcma.io.cli import ConfigOptions  # noqa: E402
from mmcma.datasets.from_config import train_class_names  # noqa: E402
from mmcma.labels.knowledge import KnowledgeGraph, knowledge_graph  # noqa: E402
from mmcma.engine.cli import (add_debug_arg,  # noqa: E402
                              exit_on_input_error)
from mmcma.io import InputOptionError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument('--source', required=True,
                        choices=['wordnet', 'conceptnet'],
                        help='knowledge base')
    parser.add_argument('--conceptnet', metavar='PATH',
                        help='ConceptNet assertions file (.csv or .csv.gz), '
                        'for --source conceptnet')
    parser.add_argument(
        '--synonyms', metavar='JSON',
        help='class name -> ConceptNet term(s) (conceptnet) or synset name '
        '(wordnet), as JSON text or a .json file, over the defaults')
    parser.add_argument(
        '--options', nargs='+', action=DictAction, default={},
        metavar='KEY=VALUE',
        help='more source options, e.g. max_steps=2 min_similarity=0.85 '
        '(wordnet) or relations=IsA,PartOf (conceptnet)')
    parser.add_argument('--out', help='output .npz (default: print only)')
    parser.add_argument('--top', type=int, default=15,
                        help='strongest pairs to print')
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptions,
                        help='override config keys')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def read_synonyms(text: str) -> dict:
    """A JSON object given inline or as a file."""
    try:
        if osp.isfile(text):
            with open(text, encoding='utf-8') as f:
                value = json.load(f)
        else:
            value = json.loads(text)
    except (OSError, json.JSONDecodeError) as e:
        raise InputOptionError(f'--synonyms: not a JSON object or file ({e})')
    if not isinstance(value, dict):
        raise InputOptionError(
            '--synonyms: expected a JSON object, class name -> '
            f'term(s), got {type(value).__name__}')
    return value


def source_options(args: argparse.Namespace) -> dict:
    """The ``knowledge`` dict the flags describe."""
    options = dict(type=args.source, **args.options)
    if args.source == 'conceptnet':
        if not args.conceptnet:
            raise InputOptionError(
                '--source conceptnet needs --conceptnet PATH '
                '(the assertions .csv or .csv.gz)')
        options['path'] = args.conceptnet
    elif args.conceptnet:
        raise InputOptionError('--conceptnet is for --source conceptnet')
    if args.synonyms:
        key = 'synonyms' if args.source == 'conceptnet' else 'synsets'
        options[key] = read_synonyms(args.synonyms)
    return options


def summary(graph: KnowledgeGraph, top: int) -> str:
    """Edges, the strongest pairs and the isolated labels."""
    n = len(graph.classes)
    edges = graph.edges()
    lines = [f'labels: {n}   edges (i < j): {len(edges)} of '
             f'{n * (n - 1) // 2}']
    for weight, a, b, relation in edges[:top]:
        lines.append(f'  {weight:8.3f}  {a} - {b}  ({relation})')
    isolated = [str(c) for c, row in zip(graph.classes, graph.adjacency)
                if not row.any()]
    lines.append(f'labels without an edge: {len(isolated)}'
                 + (f'  {isolated}' if isolated else ''))
    return '\n'.join(lines)


@exit_on_input_error(also=(ImportError, OSError, ValueError))
def main(argv=None) -> None:
    args = parse_args(argv)
    if args.out is not None and not args.out.endswith('.npz'):
        raise InputOptionError(f'--out must end with .npz, got {args.out}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    options = source_options(args)
    classes, origin = train_class_names(cfg)
    print(f'class names from {origin}')
    start = time.perf_counter()
    graph = knowledge_graph(classes, options)
    print(summary(graph, args.top))
    print(f'time: {time.perf_counter() - start:.1f} s')
    if args.out is not None:
        graph.save(args.out)
        print(f'written: {args.out}')


if __name__ == '__main__':
    main()
