"""Raw generator output -> uint8 pixels, grids and PNG files."""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image


def to_uint8(images) -> np.ndarray:
    """[N, H, W, C] in ~[-1, 1] -> uint8, as NVIDIA: clip(x * 127.5 + 128, 0, 255), floored."""
    x = np.asarray(images, np.float32)
    return np.clip(x * 127.5 + 128.0, 0, 255).astype(np.uint8)


def make_grid(images: np.ndarray, cols: int | None = None, pad: int = 0) -> np.ndarray:
    """uint8 [N, H, W, C] -> one [rows*H, cols*W, C] image (row-major, blank cells black)."""
    n, h, w, c = images.shape
    if n == 0:
        raise ValueError("no images to tile")
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * (h + pad) - pad, cols * (w + pad) - pad, c), images.dtype)
    for i, img in enumerate(images):
        r, q = divmod(i, cols)
        grid[r * (h + pad) : r * (h + pad) + h, q * (w + pad) : q * (w + pad) + w] = img
    return grid


def save_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write uint8 [H, W, C] (C = 1 or 3) to PNG."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"save_png expects uint8 pixels, got {img.dtype}")
    Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(path)
