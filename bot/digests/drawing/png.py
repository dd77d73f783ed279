"""The chart's PNG encoder: a few lines of zlib that beat a general-purpose encoder on flat
colour images."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

# zlib level 3 on unfiltered rows: the image is mostly flat colour, so PNG's per-row filters
# (which Pillow always tries, and which cost most of its encoding time) gain nothing here.
PNG_COMPRESSION = 3
PNG_BAND = 128  # rows compressed at a time


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(rgba: npt.NDArray[np.uint8]) -> bytes:
    """An opaque RGBA image as an RGB PNG, each row unfiltered, compressed a band of rows at a
    time (a few hundred KB of memory, not a copy of the image; zlib releases the GIL, so
    charts drawn in two threads really encode in parallel)."""
    height, width, _ = rgba.shape
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    compressor = zlib.compressobj(PNG_COMPRESSION)
    band = np.zeros((min(height, PNG_BAND), 1 + 3 * width), dtype=np.uint8)  # filter 0: none
    pieces = []
    pixels = band[:, 1:].reshape(len(band), width, 3)  # a view: one copy per band
    for top in range(0, height, PNG_BAND):
        rows = rgba[top : top + PNG_BAND, :, :3]
        pixels[: len(rows)] = rows
        pieces.append(compressor.compress(band[: len(rows)].data))
    pieces.append(compressor.flush())
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", b"".join(pieces)),
            _png_chunk(b"IEND", b""),
        )
    )
