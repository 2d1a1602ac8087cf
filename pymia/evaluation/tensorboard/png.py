"""A minimal PNG encoder for RGB images, so image summaries need neither Pillow nor a framework.

TensorBoard stores images as encoded PNG bytes inside the event file. The encoder writes one IDAT
chunk of unfiltered scanlines compressed with zlib; that is all a valid 8-bit RGB PNG needs.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from pymia.errors import InvalidInputError

__all__ = ["encode_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE_RGB = 2
_BIT_DEPTH = 8


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def encode_png(rgb: np.ndarray, *, compression_level: int = 6) -> bytes:
    """Encode an RGB image as PNG.

    Parameters
    ----------
    rgb : numpy.ndarray
        Image of shape (H, W, 3), dtype ``uint8``; row 0 is the top of the picture.
    compression_level : int, optional
        zlib level 0–9 (default 6).

    Returns
    -------
    bytes
        The complete PNG file.

    Examples
    --------
    >>> encode_png(np.zeros((2, 3, 3), np.uint8))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or 0 in rgb.shape:
        raise InvalidInputError(
            f"encode_png needs a non-empty uint8 array of shape (H, W, 3), got shape {rgb.shape} "
            f"and dtype {rgb.dtype}; convert with `np.clip(x, 0, 255).astype(np.uint8)`"
        )
    height, width = rgb.shape[:2]
    header = struct.pack(">IIBBBBB", width, height, _BIT_DEPTH, _COLOR_TYPE_RGB, 0, 0, 0)
    # Every scanline starts with its filter type; 0 means "no filter".
    scanlines = np.zeros((height, 1 + 3 * width), np.uint8)
    scanlines[:, 1:] = rgb.reshape(height, 3 * width)
    data = zlib.compress(scanlines.tobytes(), compression_level)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
