"""The web page as a Starlette app: ``GET /`` the page, ``POST /predict``
the photos.

Starlette (with uvicorn serving it) is a small, well-kept ASGI library;
gradio, the usual choice for such pages, would move pins of the tested
stack (it needs a different Pillow), so the page is plain HTML
(:mod:`.page`). Nothing is written to disk per request: uploads are read
into memory (requests over ``max_upload_bytes`` are refused before their
body is read), figures are encoded in memory and sent inline.
"""
from typing import Optional, Sequence

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .page import render_page, render_results
from .predictor import PagePredictor, SelectionError, parse_selection
from .uploads import upload_name

#: Most photos in one request.
MAX_FILES = 32
#: The names of this machine in a request's Host header (``[::1]`` with
#: its brackets, as Starlette parses it).
LOCAL_HOSTS = ('127.0.0.1', 'localhost', '[::1]')


class RequestRefused(ValueError):
    """A request the page answers with a message instead of results."""


def build_app(predictor: PagePredictor, title: str,
              max_upload_bytes: int = 100 * 2**20,
              allowed_hosts: Optional[Sequence[str]] = None) -> Starlette:
    """The page's app.

    Args:
        predictor (PagePredictor): Classifies the uploads.
        title (str): Shown at the top of the page (the config's name).
        max_upload_bytes (int): Largest request body.
        allowed_hosts (Sequence[str], optional): Host headers answered
            (Starlette's ``TrustedHostMiddleware``; e.g.
            :data:`LOCAL_HOSTS` for a page on 127.0.0.1, so that another
            site cannot reach it through DNS rebinding). Defaults to any.

    Returns:
        Starlette: Serve it with uvicorn (``tools/web_demo.py``).
    """

    def page(results_html: str = '', selection: Optional[dict] = None,
             status_code: int = 200) -> HTMLResponse:
        return HTMLResponse(
            render_page(title, predictor.notes(),
                        selection or predictor.default_selection(),
                        predictor.num_classes, results_html),
            status_code=status_code)

    async def index(request: Request) -> Response:
        return page()

    async def predict(request: Request) -> Response:
        fragment = request.query_params.get('fragment') == '1'
        selection = None
        try:
            files, selection = await _read_form(request, predictor,
                                                max_upload_bytes)
            results = [
                await run_in_threadpool(predictor.predict, name, data,
                                        selection) for name, data in files
            ]
            html, status = render_results(results, selection), 200
        except RequestRefused as e:
            html, status = render_results([], None, str(e)), 400
        if fragment:
            return HTMLResponse(html, status_code=status)
        return page(html, selection, status)

    middleware = [] if allowed_hosts is None else [
        Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    ]
    return Starlette(routes=[
        Route('/', index, methods=['GET']),
        Route('/predict', predict, methods=['POST']),
    ], middleware=middleware)


def _megabytes(size: int) -> str:
    return f'{size / 2**20:.3g} MB'


async def _read_form(request: Request, predictor: PagePredictor,
                     max_upload_bytes: int):
    """The uploads (``(name, bytes)`` pairs) and the label rule.

    Raises:
        RequestRefused: Too large, not a form, no photo, too many photos,
            or a bad threshold / top-k; the message says which.
    """
    length = request.headers.get('content-length')
    if length is None or not length.isdigit():
        raise RequestRefused('the upload has no size (Content-Length): '
                             'send the photos from the page\'s form')
    if int(length) > max_upload_bytes:
        # Read (and drop) the body before answering: a browser still
        # sending it would otherwise see the connection reset, not the
        # message.
        async for _ in request.stream():
            pass
        raise RequestRefused(
            f'the upload is {_megabytes(int(length))}, over this page\'s '
            f'limit of {_megabytes(max_upload_bytes)}: send fewer or '
            'smaller photos (or restart tools/web_demo.py with a larger '
            '--max-upload-mb)')
    try:
        async with request.form(max_files=MAX_FILES) as form:
            uploads = [f for f in form.getlist('photos')
                       if isinstance(f, UploadFile)]
            rule = str(form.get('rule', ''))
            value = str(form.get(rule, '')) if rule in ('thr', 'topk') else ''
            files = [(upload_name(f.filename), await f.read())
                     for f in uploads]
    except (MultiPartException, HTTPException) as e:
        # Starlette raises the parser's errors as HTTPException(400).
        reason = getattr(e, 'detail', None) or str(e)
        raise RequestRefused(f'the upload could not be read ({reason}): '
                             f'send at most {MAX_FILES} photos from the '
                             'page\'s form') from None
    if not files:
        raise RequestRefused('no photo in the upload: choose or drop one or '
                             'more photos')
    try:
        selection = parse_selection(rule, value, predictor.num_classes)
    except SelectionError as e:
        raise RequestRefused(str(e)) from None
    return files, selection
