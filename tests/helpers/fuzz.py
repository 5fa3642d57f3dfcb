"""Fuzzing the readers: mutated files, and what a reader may do with them.

:func:`mutated` draws a byte-level mutation of a valid file (bytes flipped,
set to edge values, inserted, deleted, repeated, the file cut);
:func:`check_reader` writes it, runs the reader under ``tracemalloc`` and a
hang guard, and accepts only two outcomes: a valid result (the caller's
check), or an :class:`mmcma.io.InputError` whose message names the file.
Any other exception fails the test, as does a peak of traced memory over
the budget or a reader still running after :data:`HANG_SECONDS`.

Profiles (``MMCMA_FUZZ_PROFILE``): ``ci`` (the default: few examples per
reader, derandomized, so a run is repeatable and the whole suite stays
within about two minutes) and ``release`` (many more examples, still
derandomized): ``MMCMA_FUZZ_PROFILE=release python -m pytest -m fuzz
tests/test_io``.

What ``tracemalloc`` counts: Python objects and numpy arrays (numpy
reports its buffers to it), which is where a decompression bomb lands;
buffers that C libraries keep to themselves (zlib's window, libpng's rows)
are not counted.
"""
import os
import signal
import tracemalloc
from contextlib import contextmanager
from typing import Callable, Optional

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from mmcma.io import InputError

settings.register_profile(
    'ci', max_examples=25, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow,
                           HealthCheck.function_scoped_fixture])
settings.register_profile(
    'release', max_examples=1000, derandomize=True, deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow,
                           HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get('MMCMA_FUZZ_PROFILE', 'ci'))

#: Peak traced memory one reader may use on a mutated small file.
MEMORY_BUDGET = 64 * 2**20
#: A reader still running after this long on a small file hangs.
HANG_SECONDS = 60

#: Byte values that often reach edge cases (lengths, signs, delimiters).
EDGE_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0A, 0x22, 0x3C, 0x2C, 0x09)


@st.composite
def mutated(draw, seed: bytes, max_ops: int = 4) -> bytes:
    """``seed`` with up to ``max_ops`` random edits."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, max_ops))):
        op = draw(st.sampled_from(
            ('flip', 'edge', 'insert', 'delete', 'repeat', 'cut')))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == 'flip' and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == 'edge' and data:
            data[pos] = draw(st.sampled_from(EDGE_BYTES))
        elif op == 'insert':
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == 'delete':
            del data[pos:pos + draw(st.integers(1, 16))]
        elif op == 'repeat':
            size = draw(st.integers(1, 64))
            data[pos:pos] = data[pos:pos + size] * draw(st.integers(1, 8))
        elif op == 'cut':
            del data[pos:]
    return bytes(data)


@contextmanager
def hang_guard(seconds: int = HANG_SECONDS):
    """Raise ``TimeoutError`` if the block runs longer than ``seconds``
    (SIGALRM; the main thread of a POSIX process)."""

    def stop(signum, frame):
        raise TimeoutError(f'the reader still runs after {seconds} s')

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check_reader(read: Callable[[], object], name: str,
                 valid: Optional[Callable[[object], None]] = None,
                 budget: int = MEMORY_BUDGET) -> Optional[InputError]:
    """Run ``read()``: it must return (then ``valid(result)`` runs) or
    raise an :class:`InputError` naming ``name`` (a file's base name);
    within ``budget`` bytes of traced memory and :data:`HANG_SECONDS`.

    Returns:
        The InputError raised, or None.
    """
    tracemalloc.start()
    error = None
    try:
        with hang_guard():
            try:
                result = read()
            except InputError as e:
                error = e
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= budget, f'{name}: peak {peak:,} bytes traced'
    if error is not None:
        assert name in str(error), f'{type(error).__name__} does not name ' \
            f'{name}: {error}'
    elif valid is not None:
        valid(result)
    return error
