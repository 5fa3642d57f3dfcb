"""A local web page for trying a model on photos (``tools/web_demo.py``).

Needs the ``demo`` extra (Starlette, uvicorn, python-multipart):
``pip install "mmcma[demo]"``. Importing :mod:`mmcma.apis` does not import
this package.
"""
from .app import build_app
from .predictor import (PagePredictor, PhotoResult, SelectionError,
                        parse_selection)
from .uploads import UploadError, read_upload

__all__ = [
    'PagePredictor', 'PhotoResult', 'SelectionError', 'UploadError',
    'build_app', 'parse_selection', 'read_upload'
]
