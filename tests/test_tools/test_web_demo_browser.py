"""tools/web_demo.py driven in a real headless browser (Playwright with
Debian's Chromium): upload a photo, read the labels the page shows, compare
them with the inferencer's; an attention model shows its attention image; a
bad upload shows a message while the server keeps serving.

Needs ``chromium`` (``apt-get install chromium``; ``make install`` does it
as root) and the ``playwright`` package; skips, saying which, without them.
Playwright's own browser download is not used.
"""
import base64
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

from mmcma.apis import MultiLabelInferencer
from tests.helpers.demo_models import CONFIGS, random_model, save_checkpoint
from tests.helpers.tool_runner import ROOT, tool_env

sync_api = pytest.importorskip(
    'playwright.sync_api', reason='playwright is not installed: pip install '
    '-r requirements-test.txt')
pytest.importorskip('starlette', reason='the demo extra is not installed: '
                    'pip install "mmcma[demo]"')
skimage_data = pytest.importorskip('skimage.data',
                                   reason='scikit-image gives the photo')

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
if not os.path.isfile(CHROMIUM):
    pytest.skip('Chromium is missing (as root: apt-get install chromium; '
                '`make install` does it): the browser test needs it',
                allow_module_level=True)

CHROMIUM_ARGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'
]
PHOTO = os.path.join(os.path.dirname(skimage_data.__file__), 'coffee.png')
#: Seconds for the server to load the model and answer (a shared CPU).
START_TIMEOUT = 300
#: Milliseconds for the page to show the results of one upload.
PAGE_TIMEOUT = 120_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def web_demo(config: str, checkpoint: str, *options: str):
    """Run tools/web_demo.py on a free port; yield its address. The server
    is always stopped (terminated, then killed), whatever happens."""
    port = free_port()
    with tempfile.TemporaryFile('w+') as log:
        proc = subprocess.Popen(
            [sys.executable, 'tools/web_demo.py', config, checkpoint,
             '--port', str(port), *options], cwd=ROOT, env=tool_env(),
            stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f'http://127.0.0.1:{port}/'
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    pytest.fail(f'web_demo.py ended ({proc.returncode}):\n'
                                f'{log.read()[-3000:]}')
                try:
                    urllib.request.urlopen(url, timeout=2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f'web_demo.py did not answer at {url} '
                                    f'in {START_TIMEOUT} s')
                    time.sleep(0.5)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope='module')
def browser():
    """A fresh headless Chromium with an empty profile."""
    with tempfile.TemporaryDirectory() as profile, \
            sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS)
        try:
            yield context
        finally:
            context.close()


def upload(page, files, updates: int) -> None:
    """Choose ``files`` in the page's file input (as a drop does) and wait
    until the page has shown its ``updates``-th answer."""
    page.set_input_files('#photos', files)
    page.wait_for_function(
        f"document.getElementById('results').dataset.updates === "
        f"'{updates}'", timeout=PAGE_TIMEOUT)


def drop(page, path: str, updates: int) -> None:
    """Drop the file at ``path`` on the page's drop zone (a ``drop`` event
    carrying it, as a browser sends one) and wait for the answer."""
    with open(path, 'rb') as f:
        payload = base64.b64encode(f.read()).decode('ascii')
    transfer = page.evaluate_handle(
        """([name, payload]) => {
            const bytes = Uint8Array.from(atob(payload), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: 'image/png'}));
            return transfer;
        }""", [os.path.basename(path), payload])
    page.dispatch_event('#drop', 'drop', {'dataTransfer': transfer})
    page.wait_for_function(
        f"document.getElementById('results').dataset.updates === "
        f"'{updates}'", timeout=PAGE_TIMEOUT)


def shown_labels(page) -> list:
    """``(name, score)`` of the label rows of every result card."""
    return page.eval_on_selector_all(
        'article.result tr.label',
        'rows => rows.map(r => [r.dataset.class, Number(r.dataset.score)])')


def expected_labels(config, checkpoint, **selection) -> list:
    inferencer = MultiLabelInferencer(config, pretrained=checkpoint)
    result = inferencer(PHOTO, batch_size=1, **selection)[0]
    return [[c, s] for c, s in zip(result['pred_classes'],
                                   result['pred_label_scores'])]


@pytest.mark.slow
def test_page_shows_the_inferencers_labels(browser, tmp_path):
    """A photo in, the inferencer's labels out (names and scores); the
    top-k control re-classifies; a bad upload gets a message and the
    server keeps serving."""
    config = CONFIGS['linear']
    ckpt = save_checkpoint(random_model(config), str(tmp_path / 'lin.pth'))
    by_thr = expected_labels(config, ckpt, thr=0.5)
    by_top4 = expected_labels(config, ckpt, topk=4)
    assert by_thr != by_top4, 'pick a rule that changes the list'
    bad = tmp_path / 'holiday.jpg'
    bad.write_text('not a photo at all')
    with web_demo(config, ckpt, '--thr', '0.5') as (url, proc):
        page = browser.new_page()
        page.goto(url)
        upload(page, PHOTO, 1)
        assert page.inner_text('#status') == 'Done.'
        assert shown_labels(page) == by_thr
        # Top-4 instead of the threshold: the page sends the photo again.
        page.eval_on_selector('#topk', "el => { el.value = '4'; }")
        page.check('input[name=rule][value=topk]')
        page.wait_for_function("document.getElementById('results')"
                               ".dataset.updates === '2'",
                               timeout=PAGE_TIMEOUT)
        assert shown_labels(page) == by_top4
        upload(page, str(bad), 3)
        error = page.inner_text('article.result .error')
        assert error.startswith('holiday.jpg is not an image')
        assert proc.poll() is None
        upload(page, PHOTO, 4)
        assert shown_labels(page) == by_top4
        page.close()


@pytest.mark.slow
def test_attention_model_shows_its_attention(browser, tmp_path):
    """A photo dropped on the page: its labels, and the attention image."""
    config = CONFIGS['cma']
    ckpt = save_checkpoint(random_model(config), str(tmp_path / 'cma.pth'))
    with web_demo(config, ckpt, '--topk', '3') as (url, _):
        page = browser.new_page()
        page.goto(url)
        drop(page, PHOTO, 1)
        assert page.inner_text('article.result h2') == 'coffee.png'
        assert shown_labels(page) == expected_labels(config, ckpt, topk=3)
        size = page.eval_on_selector(
            'img.attention', 'img => img.complete ? '
            '[img.naturalWidth, img.naturalHeight] : null')
        assert size is not None and min(size) > 100, size
        assert 'Attention maps' in page.inner_text('ul.notes')
        page.close()
