"""Artifacts -> pictures without extra dependencies: image grids and PNG bytes (zlib only)."""
from __future__ import annotations

import struct
import zlib

import numpy as np


def image_grid(images: np.ndarray, cols: int | None = None, pad: int = 2, value: int = 40) -> np.ndarray:
    """uint8 [N, H, W] -> one uint8 mosaic with `pad` pixels of `value` between tiles."""
    images = np.asarray(images)
    n, h, w = images.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), value, dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = img
    return out


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling so 28-pixel digits stay crisp in a browser."""
    return np.kron(np.asarray(image), np.ones((factor, factor), dtype=np.uint8)) if factor > 1 else image


def png_bytes(image: np.ndarray) -> bytes:
    """Greyscale uint8 [H, W] (or RGB [H, W, 3]) -> PNG file bytes."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w = image.shape[:2]
    color_type = 2 if image.ndim == 3 else 0
    raw = b"".join(b"\x00" + image[r].tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
