"""Artifacts -> pictures: image mosaics, nearest-neighbour upscaling, and PNG bytes through Pillow."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


def image_grid(images: np.ndarray, cols: int | None = None, pad: int = 2, value: int = 40) -> np.ndarray:
    """uint8 [N, H, W] -> one uint8 mosaic with `pad` pixels of `value` between tiles."""
    images = np.asarray(images)
    n, h, w = images.shape
    cols = max(1, min(cols or int(np.ceil(np.sqrt(n))), n))
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), value, dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = img
    return out


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling so 28-pixel images stay crisp in a browser; greyscale [H, W] or colour
    [H, W, C] (only the two picture axes grow)."""
    if factor <= 1:
        return image
    return np.asarray(image).repeat(factor, axis=0).repeat(factor, axis=1)


def png_bytes(image: np.ndarray) -> bytes:
    """Greyscale uint8 [H, W] (or RGB [H, W, 3]) -> PNG file bytes, at zlib's fastest level: the pages'
    upscaled pictures (blocks of equal pixels) compress as well at level 1, for less of the server's time
    (benchmarks/README.md)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()
