"""YouTube-8M's 8-bit feature quantisation: frame features are stored as
uint8 codes over [-2, 2]; :func:`dequantize` is YouTube-8M's
``utils.Dequantize``, :func:`quantize` its inverse (for writing records).
"""
from typing import Tuple

import numpy as np

#: Range over which YouTube-8M quantises features to 8 bits.
QUANT_MIN, QUANT_MAX = -2.0, 2.0


def _quantization(max_value: float, min_value: float) -> Tuple[float, float]:
    """(scale, bias) of YouTube-8M's 8-bit codes over [min, max]."""
    if max_value <= min_value:
        raise ValueError(
            'max_quantized_value must exceed min_quantized_value.')
    quant_range = max_value - min_value
    return quant_range / 255.0, quant_range / 512.0 + min_value


def dequantize(quantized: np.ndarray,
               max_quantized_value: float = QUANT_MAX,
               min_quantized_value: float = QUANT_MIN) -> np.ndarray:
    """Map 8-bit codes back to floats, exactly as YouTube-8M's reader does.

    YouTube-8M's ``utils.Dequantize`` computes
    ``x = q * range / 255 + range / 512 + min`` with
    ``range = max - min``: code 0 maps to ``min + range / 512`` (about half a
    bin above ``min``; a bin is ``range / 255`` wide) and code 255 to
    ``max + range / 512``. With the default [-2, 2]:
    ``x = q * 4 / 255 - 2 + 1 / 128``.

    Args:
        quantized (np.ndarray): uint8 codes, any shape.
        max_quantized_value (float): Upper end of the quantisation range.
        min_quantized_value (float): Lower end of the quantisation range.

    Returns:
        np.ndarray: float32 array of the same shape.
    """
    scalar, bias = _quantization(max_quantized_value, min_quantized_value)
    return (np.asarray(quantized, dtype=np.float32) * np.float32(scalar) +
            np.float32(bias))


def quantize(features: np.ndarray,
             max_quantized_value: float = QUANT_MAX,
             min_quantized_value: float = QUANT_MIN) -> np.ndarray:
    """Inverse of :func:`dequantize`: nearest 8-bit code, clipped to 0..255.

    Args:
        features (np.ndarray): Float features, any shape.
        max_quantized_value (float): Upper end of the quantisation range.
        min_quantized_value (float): Lower end of the quantisation range.

    Returns:
        np.ndarray: uint8 codes of the same shape.
    """
    scalar, bias = _quantization(max_quantized_value, min_quantized_value)
    codes = np.rint((np.asarray(features, dtype=np.float64) - bias) / scalar)
    return np.clip(codes, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------
# TFRecord framing and the SequenceExample wire format
# ---------------------------------------------------------------------------
