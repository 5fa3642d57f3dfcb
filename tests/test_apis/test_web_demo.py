"""The web page's app (mmcma/apis/web, tools/web_demo.py) through
Starlette's test client: the labels it shows are the inferencer's, the
figures are mmcma.visualization's, bad uploads get a message and the app
keeps serving. The page in a real browser:
tests/test_tools/test_web_demo_browser.py.
"""
import os
import re
import runpy
import struct
import zlib
from html.parser import HTMLParser

import cv2
import mmcv
import numpy as np
import pytest

pytest.importorskip('starlette', reason='the demo extra (starlette) is not '
                    'installed: pip install "mmcma[demo]"')
skimage_data = pytest.importorskip('skimage.data',
                                   reason='scikit-image gives the photos')
from starlette.testclient import TestClient  # noqa: E402

from mmcma.apis import MultiLabelInferencer, init_model  # noqa: E402
from mmcma.apis.web import (PagePredictor, UploadError,  # noqa: E402
                            build_app, read_upload)
from mmcma.apis.web.app import LOCAL_HOSTS, MAX_FILES  # noqa: E402
from mmcma.visualization import AttentionVisualizer  # noqa: E402
from tests.helpers.demo_models import (CLASSES, ROOT,  # noqa: E402
                                       random_model, save_checkpoint)

PHOTOS = os.path.dirname(skimage_data.__file__)
ASTRONAUT = os.path.join(PHOTOS, 'astronaut.png')  # 512 x 512 RGB
ROCKET = os.path.join(PHOTOS, 'rocket.jpg')
KINDS = ('linear', 'cma', 'mscma', 'spatial-context', 'mlgcn', 'kssnet')


def demo_config(kind: str) -> str:
    return os.path.join(ROOT, 'configs', 'demo',
                        f'{kind}_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp('web_ckpt')
    return {
        kind: save_checkpoint(random_model(demo_config(kind)),
                              str(root / f'{kind}.pth'))
        for kind in KINDS
    }


def make_client(kind, checkpoints, max_pixels=50_000_000, **kwargs):
    """The page of a ``kind`` demo model, and the inferencer behind it."""
    model = init_model(demo_config(kind), checkpoints[kind])
    inferencer = MultiLabelInferencer(model, **kwargs)
    predictor = PagePredictor(inferencer, max_pixels)
    return TestClient(build_app(predictor, title=kind)), inferencer


class Cards(HTMLParser):
    """Result cards of a page: name, label rows, every-score rows, image
    sources by class, errors."""

    def __init__(self, html: str):
        super().__init__()
        self.cards, self.errors = [], []
        self._in_error = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        css = attrs.get('class', '')
        if tag == 'article':
            self.cards.append(dict(name=attrs['data-name'], labels=[],
                                   scores=[], images={}, error=None))
        elif tag == 'tr' and css in ('label', 'any'):
            key = 'labels' if css == 'label' else 'scores'
            self.cards[-1][key].append(
                (attrs['data-class'], float(attrs['data-score'])))
        elif tag == 'img' and self.cards:
            self.cards[-1]['images'][css] = attrs['src']
        elif tag == 'p' and css == 'error':
            self._in_error = True

    def handle_endtag(self, tag):
        self._in_error = self._in_error and tag != 'p'

    def handle_data(self, data):
        if self._in_error:
            if self.cards:
                self.cards[-1]['error'] = data
            else:
                self.errors.append(data)


def post(client, files, rule='thr', value='0.5', fragment=True):
    """POST photos as the page's form does: ``files`` are ``(name, bytes)``.
    """
    data = {'rule': rule, 'thr': '0.5', 'topk': '3'}
    data[rule] = value
    return client.post('/predict' + ('?fragment=1' if fragment else ''),
                       data=data,
                       files=[('photos', (name, content, 'image/png'))
                              for name, content in files])


def png_bytes(path) -> bytes:
    with open(path, 'rb') as f:
        return f.read()


def decode_data_url(src: str) -> np.ndarray:
    """An ``<img>`` data URL as an RGB array."""
    import base64
    raw = base64.b64decode(src.split(',', 1)[1])
    return mmcv.imfrombytes(raw, channel_order='rgb')


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('rule,value', [('thr', '0.5'), ('topk', '3')])
def test_page_shows_the_inferencers_labels(kind, rule, value, checkpoints):
    client, inferencer = make_client(kind, checkpoints)
    expected = inferencer(ASTRONAUT, **{rule: float(value) if rule == 'thr'
                                         else int(value)})[0]
    response = post(client, [('astronaut.png', png_bytes(ASTRONAUT))], rule,
                    value)
    assert response.status_code == 200
    [card] = Cards(response.text).cards
    assert card['error'] is None and card['name'] == 'astronaut.png'
    assert card['labels'] == list(zip(expected['pred_classes'],
                                      expected['pred_label_scores']))
    order = np.argsort(-expected['pred_scores'], kind='stable')
    assert card['scores'] == [(CLASSES[k], float(expected['pred_scores'][k]))
                              for k in order]
    photo = decode_data_url(card['images']['photo'])
    assert photo.shape[:2] == (384, 384)  # 512 px photo, 384 px thumbnail
    page = client.get('/').text
    assert ('GCN head' in page) == (kind in ('mlgcn', 'kssnet'))
    if kind in ('mlgcn', 'kssnet'):
        assert {'mlgcn': 'GCN head (ML-GCN)',
                'kssnet': 'GCN head (KSSNet)'}[kind] in page


@pytest.mark.parametrize('kind', ['cma', 'mscma', 'spatial-context'])
def test_figures_are_the_visualizers(kind, checkpoints):
    """The attention grid (CMA, MS-CMA) or the patch drawing (spatial
    context) on the page is the figure AttentionVisualizer draws from the
    inferencer's result, over the image the model saw (the demo test
    pipeline warps the photo to 64 px)."""
    client, inferencer = make_client(kind, checkpoints)
    attention = kind != 'spatial-context'
    result = inferencer(ASTRONAUT, topk=2, return_attention=attention,
                        patches=0 if attention else 5)[0]
    image = np.ascontiguousarray(
        mmcv.imresize(mmcv.imread(ASTRONAUT), (64, 64))[..., ::-1])
    visualizer = AttentionVisualizer(name=f'test_web_{kind}')
    if attention:
        expected = visualizer.add_attention(
            'astronaut.png', image, result['attention'],
            result['pred_labels'], result['pred_scores'], CLASSES)
    else:
        found = result['patches']
        assert found, 'no patch to draw'
        expected = visualizer.add_patches(
            'astronaut.png', image, np.array([p['box'] for p in found]),
            np.array([p['context_box'] for p in found]),
            [p['label'] for p in found], [p['score'] for p in found],
            CLASSES)
    [card] = Cards(post(client, [('astronaut.png', png_bytes(ASTRONAUT))],
                        'topk', '2').text).cards
    figure = 'attention' if attention else 'patches'
    assert set(card['images']) == {'photo', figure}
    np.testing.assert_array_equal(decode_data_url(card['images'][figure]),
                                  expected)


def png_header(width: int, height: int) -> bytes:
    """A small PNG announcing ``width`` x ``height`` RGB pixels, with a few
    bytes of image data: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data)))

    return (b'\x89PNG\r\n\x1a\n' +
            chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0,
                                       0)) +
            chunk(b'IDAT', zlib.compress(b'\0' * 64)) + chunk(b'IEND', b''))


BAD_UPLOADS = {
    'notes.jpg': (b'just text, not a photo',
                  r'^notes\.jpg is not an image \(no image header found\)'),
    'empty.png': (b'', r'^empty\.png is an empty file'),
    'cut.png': (None, r'^cut\.png cannot be decoded'),
    'big.png': (png_header(10_000, 6_000),
                r'^big\.png is 10000x6000 = 60,000,000 pixels, over this '
                r"page's limit of 50,000,000 pixels"),
    'bomb.png': (png_header(100_000, 100_000),
                 r'^bomb\.png is too large for Pillow to read its header'),
}


def test_bad_uploads_get_a_message_and_the_page_keeps_serving(checkpoints):
    """Each refused upload gets its card with a message naming it, next to
    a good photo of the same request, and the app serves the next one."""
    client, inferencer = make_client('linear', checkpoints)
    good = png_bytes(ASTRONAUT)
    uploads = [(name, good[:len(good) // 3] if content is None else content)
               for name, (content, _) in BAD_UPLOADS.items()]
    response = post(client, uploads[:3] + [('astronaut.png', good)] +
                    uploads[3:])
    assert response.status_code == 200
    cards = {c['name']: c for c in Cards(response.text).cards}
    assert list(cards) == [n for n, _ in uploads[:3]] + ['astronaut.png'] + \
        [n for n, _ in uploads[3:]]
    for name, (_, message) in BAD_UPLOADS.items():
        assert re.match(message, cards[name]['error']), cards[name]['error']
        assert not cards[name]['labels']
    expected = inferencer(ASTRONAUT, thr=0.5)[0]
    assert cards['astronaut.png']['labels'] == list(zip(
        expected['pred_classes'], expected['pred_label_scores']))
    [again] = Cards(post(client, [('a.png', good)]).text).cards
    assert again['labels'] == cards['astronaut.png']['labels']


def test_pixel_limit_of_the_page(checkpoints):
    """``max_pixels`` (``--max-pixels``) bounds width x height: a 512 x 512
    photo passes at 262,144 and is refused at one pixel less."""
    good = png_bytes(ASTRONAUT)
    for limit, refused in ((512 * 512, False), (512 * 512 - 1, True)):
        client, _ = make_client('linear', checkpoints, max_pixels=limit)
        [card] = Cards(post(client, [('astronaut.png', good)]).text).cards
        assert (card['error'] is not None) == refused
        if refused:
            assert card['error'].startswith(
                'astronaut.png is 512x512 = 262,144 pixels, over this '
                "page's limit of 262,143 pixels")


@pytest.mark.parametrize('data,message', [
    (dict(rule='thr', value='1.5'),
     'the threshold must be a number from 0 to 1, got ' "'1.5'"),
    (dict(rule='topk', value='13'),
     'the top-k must be a whole number from 1 to 12, got ' "'13'"),
    (dict(rule='topk', value='two'),
     'the top-k must be a whole number from 1 to 12, got ' "'two'"),
    (dict(rule='best', value='1'),
     "unknown label rule 'best': choose threshold or top-k"),
])
def test_bad_label_rule_is_refused(data, message, checkpoints):
    client, _ = make_client('linear', checkpoints)
    response = post(client, [('a.png', png_bytes(ASTRONAUT))], **data)
    assert response.status_code == 400
    parsed = Cards(response.text)
    assert parsed.errors == [message] and not parsed.cards


def test_refused_requests(checkpoints):
    """No photo, too many photos, a body over the byte limit: one message,
    and the app still answers."""
    model = init_model(demo_config('linear'), checkpoints['linear'])
    predictor = PagePredictor(MultiLabelInferencer(model), 50_000_000)
    client = TestClient(build_app(predictor, 'linear',
                                  max_upload_bytes=300_000))
    good = png_bytes(ASTRONAUT)  # 470 kB: over 300 kB
    cases = [
        ([], r'^no photo in the upload'),
        ([('a.png', b'x')] * (MAX_FILES + 1),
         rf'^the upload could not be read \(.*\): send at most {MAX_FILES}'),
        ([('a.png', good)], r'^the upload is 0\.[0-9]+ MB, over this '
         r"page's limit of 0\.286 MB"),
    ]
    for files, message in cases:
        response = post(client, files)
        assert response.status_code == 400
        [error] = Cards(response.text).errors
        assert re.match(message, error), error
    small = cv2.imencode('.png', mmcv.imread(ASTRONAUT)[::4, ::4])[1]
    [card] = Cards(post(client, [('s.png', small.tobytes())]).text).cards
    assert card['labels'] or card['scores']


def test_local_page_answers_local_host_names_only(checkpoints):
    """With ``allowed_hosts`` (tools/web_demo.py on 127.0.0.1) a request
    whose Host header names another machine (DNS rebinding) is refused."""
    model = init_model(demo_config('linear'), checkpoints['linear'])
    predictor = PagePredictor(MultiLabelInferencer(model), 50_000_000)
    app = build_app(predictor, 'linear', allowed_hosts=LOCAL_HOSTS)
    for base, status in (('http://127.0.0.1:7860', 200),
                         ('http://localhost:7860', 200),
                         ('http://[::1]:7860', 200),
                         ('http://evil.example:7860', 400)):
        assert TestClient(app, base_url=base).get('/').status_code == status


def test_page_without_script_and_defaults(checkpoints):
    """``GET /`` shows the model, the notes and the tool's default rule; a
    form POST without the script answers with the whole page."""
    client, inferencer = make_client('cma', checkpoints, topk=4)
    page = client.get('/').text
    assert 'CMAHead, 12 labels.' in page and 'Attention maps' in page
    assert re.search(r'value="topk" checked', page)
    assert re.search(r'id="topk"[^>]*value="4"', page)
    response = post(client, [('astronaut.png', png_bytes(ASTRONAUT))],
                     'topk', '4', fragment=False)
    assert response.text.startswith('<!doctype html>')
    [card] = Cards(response.text).cards
    assert [c for c, _ in card['labels']] == \
        inferencer(ASTRONAUT, topk=4)[0]['pred_classes']


def test_upload_decodes_as_the_file(tmp_path):
    """An upload decodes to the pixels ``mmcv.imread`` gives for the same
    file (PNG, JPEG, grey PNG), so the page and tools/infer.py agree."""
    grey = str(tmp_path / 'grey.png')
    cv2.imwrite(grey, mmcv.imread(ASTRONAUT, flag='grayscale'))
    for path in (ASTRONAUT, ROCKET, grey):
        np.testing.assert_array_equal(
            read_upload(png_bytes(path), 'x', 50_000_000), mmcv.imread(path))
    with pytest.raises(UploadError, match='^x is not an image'):
        read_upload(b'GIF89a', 'x', None)


def test_tool_refuses_video_configs_and_bad_defaults(checkpoints, tmp_path):
    tool = runpy.run_path(os.path.join(ROOT, 'tools', 'web_demo.py'))
    video = os.path.join(ROOT, 'configs', 'video',
                         'cma_snet-w64_1xb32-coslr-20e_yt8m-demo.py')
    ckpt = save_checkpoint(random_model(video), str(tmp_path / 'video.pth'),
                           classes=None)
    with pytest.raises(SystemExit, match=r'^error: .*yt8m-demo\.py is a model '
                       r'of frame features, not photos: the web page serves '
                       r'image configs only$'):
        tool['main']([video, ckpt])
    with pytest.raises(SystemExit, match=r'^error: --topk: topk must be a '
                       r'whole number in \[1, 12\] .*got 13$'):
        tool['main']([demo_config('linear'), checkpoints['linear'],
                      '--topk', '13'])


def test_a_failing_model_does_not_stop_the_page(checkpoints, monkeypatch,
                                                caplog):
    """An error inside the model becomes the photo's message (and a logged
    traceback); the next request is classified."""
    model = init_model(demo_config('linear'), checkpoints['linear'])
    predictor = PagePredictor(MultiLabelInferencer(model), 50_000_000)
    client = TestClient(build_app(predictor, 'linear'))
    classify = predictor._classify

    def broken(*args, **kwargs):
        monkeypatch.setattr(predictor, '_classify', classify)  # once
        raise RuntimeError('out of memory')

    monkeypatch.setattr(predictor, '_classify', broken)
    good = png_bytes(ASTRONAUT)
    [card] = Cards(post(client, [('a.png', good)]).text).cards
    assert card['error'] == ('a.png could not be classified: RuntimeError: '
                             'out of memory')
    assert 'classifying a.png failed' in caplog.text
    [card] = Cards(post(client, [('a.png', good)]).text).cards
    assert card['error'] is None and card['scores']
