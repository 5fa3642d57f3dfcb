"""Convert ML-GCN's released pickles into mmcma's plain arrays (.npz).

ML-GCN ships ``{data}_adj.pkl`` (label co-occurrence counts) and
``{data}_glove_word2vec.pkl`` (the class names' 300-d GloVe vectors). Both
are pickles, which run code when loaded: this tool reads them only with
``--trust-pickle``. It writes:

- with ``--adj`` (and ``--num-images``): a label state file (class names,
  counts, co-occurrence counts, the ML-GCN graph, and the vectors if
  ``--word2vec`` is given), read by ``mmcma.LabelState.load``;
- with ``--word2vec`` alone: ``classes`` and ``embeddings``.

Either file feeds the vectors to training with
``LabelStateHook(embedding=dict(type='file', path=OUT))``, which checks the
class names against the dataset's. Example (docs/mlgcn.md)::

    python tools/convert_mlgcn_files.py --trust-pickle \\
        --word2vec data/coco/coco_glove_word2vec.pkl \\
        --adj data/coco/coco_adj.pkl --num-images 82081 \\
        --classes coco_classes.txt --out coco_mlgcn.npz
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402

from mmcma.labels import describe  # noqa: E402
from mmcma.labels.mlgcn_files import (mlgcn_label_state,  # noqa: E402
                                         read_mlgcn_adj, read_mlgcn_vectors)
from mmcma.labels.graphs import MLGCN_VARIANTS  # noqa: E402
from mmcma.engine.cli import (add_debug_arg,  # noqa: E402
                              exit_on_input_error)
from mmcma.io import (InputFileError, InputOptionError,  # noqa: E402
                      MissingFileError, npz_members, read_npz)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--adj', help="ML-GCN's *_adj.pkl")
    parser.add_argument('--word2vec', help="ML-GCN's *_glove_word2vec.pkl")
    parser.add_argument(
        '--classes', required=True,
        help='the class names in the files\' order: a text file (one a '
        'line) or an .npz with a "classes" array (e.g. written by '
        'tools/build_label_graph.py for your dataset config)')
    parser.add_argument(
        '--num-images', type=int,
        help='training images the counts of --adj come from (COCO '
        'train2014: 82081 with labels; VOC 2007 trainval: 5011)')
    parser.add_argument('--out', required=True, help='output .npz file')
    parser.add_argument(
        '--trust-pickle', action='store_true',
        help='allow unpickling the input files (only for files you trust)')
    parser.add_argument('--t', type=float, default=0.4,
                        help='graph threshold t (default 0.4)')
    parser.add_argument('--p', type=float,
                        help='graph re-weighting p (default: the variant\'s)')
    parser.add_argument('--variant', choices=MLGCN_VARIANTS,
                        default='released',
                        help='ML-GCN graph variant (default: released)')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def read_classes(path: str) -> list:
    """Class names from a text file (one a line) or an .npz's ``classes``.
    """
    if not osp.isfile(path):
        raise MissingFileError(f'class list not found: {path}')
    if path.endswith('.npz'):
        data = read_npz(path, ['classes'], 'class list')
        if 'classes' not in data:
            raise InputFileError(f'{path}: no "classes" array (it holds '
                                 f'{npz_members(path)})')
        return [str(c) for c in data['classes'].reshape(-1)]
    with open(path, encoding='utf-8') as f:
        classes = [line.strip() for line in f if line.strip()]
    if len(set(classes)) != len(classes):
        raise InputFileError(f'{path}: class names repeat')
    return classes


@exit_on_input_error(also=(ImportError, OSError, ValueError))
def main(argv=None) -> None:
    args = parse_args(argv)
    if not args.out.endswith('.npz'):
        raise InputOptionError(f'--out must end with .npz, got {args.out}')
    if args.adj is None and args.word2vec is None:
        raise InputOptionError(
            'nothing to convert: give --adj, --word2vec or both')
    if not args.trust_pickle:
        raise InputOptionError(
            'refusing to unpickle the input files: loading a pickle runs any '
            'code it names. Add --trust-pickle only for files from a source '
            "you trust (ML-GCN's release).")
    if args.adj is not None and args.num_images is None:
        raise InputOptionError(
            '--adj needs --num-images: the training images the '
            "counts come from (ML-GCN's file does not record "
            'it; label frequencies are counts / images)')
    classes = read_classes(args.classes)
    vectors = None if args.word2vec is None else read_mlgcn_vectors(
        args.word2vec, len(classes), trust_pickle=True)
    if args.adj is None:
        np.savez(args.out, classes=np.asarray(classes, dtype=str),
                 embeddings=vectors)
        print(f'label vectors: {vectors.shape}')
    else:
        graph = dict(kind='mlgcn', variant=args.variant, t=args.t)
        if args.p is not None:
            graph['p'] = args.p
        state = mlgcn_label_state(
            classes, read_mlgcn_adj(args.adj, trust_pickle=True),
            args.num_images, vectors, graph)
        state.save(args.out)
        print(describe(state))
    print(f'written: {args.out}')


if __name__ == '__main__':
    main()
