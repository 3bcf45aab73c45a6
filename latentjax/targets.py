"""Projection targets from image files, and the progress animation (`latentjax project`).

`load_target(path, R)` -> [1, R, R, C] float32 in [-1, 1], as NVIDIA's projector prepares a target
(centre crop to a square, LANCZOS resize to the generator's resolution), but in float: 16-bit
files keep their precision and the resized image is not re-quantised to uint8 (NVIDIA's uint8
round trip differs by at most half a grey level).

Pixel modes (everything Pillow reads):
  - 8-bit RGB / L / 1 / P / CMYK / YCbCr ...: converted to RGB, / 255.
  - 16-bit grayscale ('I;16', 'I;16B', 'I;16L', and 'I' as Pillow reads 16-bit PNG/TIFF): / 65535.
    'I' values outside 0..65535 (true 32-bit data) are refused: their range is unknown.
  - 'F' (float TIFF): taken as [0, 1]; values outside are refused.
  - Alpha (RGBA, LA, PA, P with transparency): composited over black (colour * alpha). NVIDIA's
    `convert('RGB')` drops alpha instead, keeping whatever colour hides under transparent pixels;
    the two agree wherever alpha is 255.
  - EXIF orientation is applied first (photos from phones).
Grayscale sources are repeated to 3 channels; a 1-channel generator gets ITU-R 601 luma.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from latentjax.errors import InputError

_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def image_to_float(img: Image.Image) -> np.ndarray:
    """A Pillow image -> [H, W, 1 or 3] float32 in [0, 1] (see the module docstring for the modes)."""
    mode = img.mode
    if mode.startswith("I;16"):
        a = np.asarray(img).astype(np.float32) / 65535.0
    elif mode == "I":
        a = np.asarray(img).astype(np.float64)
        if a.size and (a.min() < 0 or a.max() > 65535):
            raise ValueError(f"32-bit integer pixels in [{a.min():g}, {a.max():g}]: unknown range, convert to 8/16-bit")
        a = (a / 65535.0).astype(np.float32)
    elif mode == "F":
        a = np.asarray(img).astype(np.float32)
        if a.size and not (np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1):
            raise ValueError("float pixels must lie in [0, 1]")
    elif mode in ("L", "1"):
        a = np.asarray(img.convert("L")).astype(np.float32) / 255.0
    elif mode in _ALPHA_MODES or (mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA")).astype(np.float32) / 255.0
        a = rgba[..., :3] * rgba[..., 3:]  # composite over black
    else:
        a = np.asarray(img.convert("RGB")).astype(np.float32) / 255.0
    return a[..., None] if a.ndim == 2 else a


def center_crop_resize(a: np.ndarray, resolution: int) -> np.ndarray:
    """[H, W, C] float -> [R, R, C]: centre square crop (NVIDIA's box), LANCZOS per channel, clipped to [0, 1]."""
    h, w = a.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    a = a[top : top + s, left : left + s]
    if s != resolution:
        size, lanczos = (resolution, resolution), Image.Resampling.LANCZOS
        chans = [
            np.asarray(Image.fromarray(np.ascontiguousarray(a[..., c])).resize(size, lanczos))
            for c in range(a.shape[-1])
        ]
        a = np.stack(chans, axis=-1)
    return np.clip(a, 0.0, 1.0).astype(np.float32)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Image file -> [H, W, 1 or 3] float32 in [0, 1], EXIF orientation applied (see the module docstring).

    Raises InputError (a ValueError) naming the file when it is missing, unreadable, empty or not an image.
    """
    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            a = image_to_float(img)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise InputError(f"{path}: cannot read as an image ({type(e).__name__}: {e})") from None
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise InputError(f"{path}: empty image")
    return a


def load_target(path: str | os.PathLike, resolution: int, channels: int = 3) -> np.ndarray:
    """Image file -> [1, R, R, channels] float32 in [-1, 1] (channels 3 or 1).

    Raises ValueError naming the file when it is missing, unreadable or not an image.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    a = read_image(path)
    if channels == 3 and a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    elif channels == 1 and a.shape[-1] == 3:
        a = a @ _LUMA[:, None]
    return (center_crop_resize(a, resolution) * 2.0 - 1.0)[None]


def load_targets(paths: Sequence[str | os.PathLike], resolution: int, channels: int = 3) -> np.ndarray:
    """Several files -> [N, R, R, channels] float32 in [-1, 1]."""
    if not paths:
        raise ValueError("no target images given")
    return np.concatenate([load_target(p, resolution, channels) for p in paths])
