"""Serve a local web page that classifies photos with a trained model.

Usage::

    python tools/web_demo.py CONFIG CHECKPOINT [--port 7860] [--device cpu] \\
        [--thr 0.5 | --topk K] [--host 127.0.0.1]

Open the printed address, drop photos on the page (or choose them) and see
each photo's labels with their scores; the threshold / top-k control
re-classifies them. Attention models (CMA, MS-CMA) also show each selected
label's attention map, spatial-context models their best object and context
patches; GCN heads (ML-GCN, KSSNet) show their label scores like the others.
Needs the ``demo`` extra: ``pip install "mmcma[demo]"``. The page is served
on 127.0.0.1 (this machine only) unless ``--host`` says otherwise.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmcma  # noqa: E402,F401  (registers components, applies patches)
from mmcma.apis import MultiLabelInferencer, init_model  # noqa: E402
from mmcma.apis.cli import add_model_args, apply_trust  # noqa: E402
from mmcma.datasets.image_check import DEFAULT_MAX_PIXELS  # noqa: E402
from mmcma.engine.cli import exit_on_checkpoint_error  # noqa: E402
from mmcma.models.utils import LabelRuleError  # noqa: E402
from mmcma.models.capabilities import (IMAGE_INPUT,  # noqa: E402
                                       model_capabilities)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description='A local web page that classifies dropped photos.')
    add_model_args(parser, 'are shown first (the page can change it)')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to serve on (default: 127.0.0.1, '
                        'this machine only)')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--max-pixels', type=int, default=DEFAULT_MAX_PIXELS,
                        help='largest photo, width x height (default: the '
                        f"datasets' limit, {DEFAULT_MAX_PIXELS:,})")
    parser.add_argument('--max-upload-mb', type=float, default=100,
                        help='largest upload of one request, in MB')
    parser.add_argument('--patches', type=int, default=5, metavar='K',
                        help='spatial-context models: draw the K best '
                        '(patch, label) pairs')
    args = parser.parse_args(argv)
    for name in ('port', 'max_pixels', 'max_upload_mb', 'patches'):
        if getattr(args, name) <= 0:
            parser.error(f'--{name.replace("_", "-")} must be positive, got '
                         f'{getattr(args, name)}')
    return args


@exit_on_checkpoint_error
def main(argv: Optional[List[str]] = None) -> None:
    """Load the model, then serve the page until interrupted."""
    args = parse_args(argv)
    try:
        import uvicorn

        from mmcma.apis.web import (PagePredictor, SelectionError,
                                    build_app, parse_selection)
        from mmcma.apis.web.app import LOCAL_HOSTS
    except ImportError as e:
        sys.exit(f'error: tools/web_demo.py needs the demo extra ({e.name} '
                 'is not installed): pip install "mmcma[demo]"')
    apply_trust(args)
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options)
    input_kind = model_capabilities(model).input_kind
    if input_kind != IMAGE_INPUT:
        sys.exit(f'error: {args.config} is a model of {input_kind}, not '
                 'photos: the web page serves image configs only')
    try:
        inferencer = MultiLabelInferencer(model, device=args.device,
                                          thr=args.thr, topk=args.topk)
    except LabelRuleError as e:  # a bad --thr / --topk, named
        sys.exit(f'error: --{"thr" if args.thr is not None else "topk"}: '
                 f'{e}')
    predictor = PagePredictor(inferencer, args.max_pixels, args.patches)
    for rule, value in predictor.default_selection().items():
        try:  # a bad --thr / --topk fails here, not on the page
            parse_selection(rule, str(value), predictor.num_classes)
        except SelectionError as e:
            sys.exit(f'error: --{rule}: {e}')
    local = args.host in ('127.0.0.1', 'localhost', '::1')
    app = build_app(predictor, title=osp.basename(args.config),
                    max_upload_bytes=int(args.max_upload_mb * 2**20),
                    allowed_hosts=LOCAL_HOSTS if local else None)
    if not local:
        print(f'warning: --host {args.host}: other machines can reach the '
              'page and use this machine to classify their photos')
    print(f'The page of {osp.basename(args.config)} will be at '
          f'http://{args.host}:{args.port}/ (Ctrl+C stops)', flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level='info',
                access_log=False)


if __name__ == '__main__':
    main()
