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

`prepare_target` / `prepare_targets` also say what they converted, one short note each
("RGBA -> RGB on black", "centre-cropped 200x120 -> 120x120", "upscaled 16 -> 64"), and refuse,
naming the file, what cannot work: unreadable files, images whose shorter side is under
`min_side(R)` pixels (below that the target is mostly interpolation blur: the projector would
fit the blur, not a face) and fully transparent images (alpha 0 everywhere: nothing visible).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from latentjax.errors import InputError

_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
MIN_SIDE = 16  # px: a 16x16 face still shows eyes and mouth; below, nothing to project onto
MAX_UPSCALE = 8  # above 8x the target is mostly the resampler's blur
_EXIF_ORIENTATION = 0x0112
_ORIENTATIONS = {
    2: "mirrored",
    3: "rotated 180 degrees",
    4: "flipped upside down",
    5: "transposed",
    6: "rotated 90 degrees clockwise",
    7: "transversed",
    8: "rotated 90 degrees anticlockwise",
}


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


def mode_note(img: Image.Image) -> str | None:
    """What `image_to_float` does to a Pillow mode, in words (None for 8-bit RGB, kept as it is)."""
    mode = img.mode
    if mode == "RGB":
        return None
    if mode.startswith("I;16") or mode == "I":
        return f"16-bit greyscale ({mode}) read at 16-bit precision"
    if mode == "F":
        return "32-bit float greyscale (F) read as [0, 1]"
    if mode in ("L", "1"):
        return "1-bit black and white" if mode == "1" else None  # plain greyscale: see channel_note
    if mode in _ALPHA_MODES or (mode == "P" and "transparency" in img.info):
        return f"{mode} -> {'greyscale' if mode in ('LA', 'La') else 'RGB'} on black"
    return f"{'palette' if mode == 'P' else mode} -> RGB"


def _alpha(img: Image.Image) -> np.ndarray | None:
    """The alpha channel [H, W] uint8 of modes that have one (None otherwise)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return np.asarray(img.convert("RGBA").getchannel("A"))
    return None


def channel_note(src_channels: int, channels: int) -> str | None:
    """The channel conversion `load_target` applies, in words (None when there is none)."""
    if channels == 3 and src_channels == 1:
        return "greyscale -> RGB"
    if channels == 1 and src_channels == 3:
        return "RGB -> greyscale (ITU-R 601 luma)"
    return None


def min_side(resolution: int) -> int:
    """Smallest accepted shorter side for a generator of `resolution`: MIN_SIDE px, or 1/MAX_UPSCALE of
    the resolution when that is larger, never more than the resolution itself (tiny test generators)."""
    return min(resolution, max(MIN_SIDE, -(-resolution // MAX_UPSCALE)))


def crop_resize_notes(height: int, width: int, resolution: int) -> list[str]:
    """What `center_crop_resize` does to an [H, W] image, in words: the crop, then the resize."""
    s = min(height, width)
    notes = []
    if height != width:
        notes.append(f"centre-cropped {width}x{height} -> {s}x{s}")
    if s < resolution:
        notes.append(f"upscaled {s} -> {resolution}")
    elif s > resolution:
        notes.append(f"downscaled {s} -> {resolution}")
    return notes


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


def read_image_with_notes(path: str | os.PathLike) -> tuple[np.ndarray, tuple[str, ...]]:
    """Image file -> ([H, W, 1 or 3] float32 in [0, 1], notes): `read_image` and what it converted
    (EXIF orientation, pixel mode, first of several frames).

    Raises InputError (a ValueError) naming the file when it is missing, unreadable, empty or not an image.
    """
    path = Path(path)
    notes = []
    try:
        with Image.open(path) as img:
            img.load()
            frames = getattr(img, "n_frames", 1)
            orientation = img.getexif().get(_EXIF_ORIENTATION)
            img = ImageOps.exif_transpose(img)
            a = image_to_float(img)
            note = mode_note(img)
            alpha = _alpha(img)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise InputError(f"{path}: cannot read as an image ({type(e).__name__}: {e})") from None
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise InputError(f"{path}: empty image")
    if alpha is not None and alpha.max() == 0:
        raise InputError(f"{path}: fully transparent (alpha 0 everywhere): nothing to project")
    if alpha is not None and alpha.min() == 255:
        note = f"{note.split(' on black')[0]} (alpha opaque everywhere)"
    if frames > 1:
        notes.append(f"first of {frames} frames")
    if orientation in _ORIENTATIONS:
        notes.append(f"EXIF orientation {orientation} applied ({_ORIENTATIONS[orientation]})")
    if note:
        notes.append(note)
    return a, tuple(notes)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Image file -> [H, W, 1 or 3] float32 in [0, 1], EXIF orientation applied (see the module docstring).

    Raises InputError (a ValueError) naming the file when it is missing, unreadable, empty or not an image.
    """
    return read_image_with_notes(path)[0]


@dataclass(frozen=True)
class Target:
    """A projection target: pixels [1, R, R, C] float32 in [-1, 1] and what was done to get them."""

    pixels: np.ndarray
    notes: tuple[str, ...] = ()


def to_target(a: np.ndarray, resolution: int, channels: int = 3, notes: Sequence[str] = ()) -> Target:
    """[H, W, 1 or 3] float in [0, 1] -> Target at resolution x resolution with `channels` (1 or 3).

    notes: what was already done to `a` (kept first). Raises ValueError (without a file name: the
    caller adds it) for images smaller than `min_side(resolution)`.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    a = np.asarray(a, np.float32)
    if a.ndim != 3 or a.shape[-1] not in (1, 3):
        raise ValueError(f"image must be [H, W, 1 or 3], got shape {list(a.shape)}")
    h, w = a.shape[:2]
    need = min_side(resolution)
    if min(h, w) < need:
        raise ValueError(
            f"{w}x{h} is too small for a {resolution}x{resolution} generator: "
            f"need at least {need} px on the shorter side"
        )
    out = list(notes)
    note = channel_note(a.shape[-1], channels)
    if note:
        out.append(note)
    out += crop_resize_notes(h, w, resolution)
    if channels == 3 and a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    elif channels == 1 and a.shape[-1] == 3:
        a = a @ _LUMA[:, None]
    return Target((center_crop_resize(a, resolution) * 2.0 - 1.0)[None], tuple(out))


def prepare_target(path: str | os.PathLike, resolution: int, channels: int = 3) -> Target:
    """Image file -> Target [1, R, R, channels] in [-1, 1] with its notes ("RGBA -> RGB on black",
    "centre-cropped 200x120 -> 120x120", "upscaled 16 -> 64").

    Raises InputError naming the file when it is missing, unreadable, too small or fully transparent.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    a, notes = read_image_with_notes(path)
    try:
        return to_target(a, resolution, channels, notes)
    except ValueError as e:
        raise InputError(f"{path}: {e}") from None


def prepare_targets(paths: Sequence[str | os.PathLike], resolution: int, channels: int = 3) -> list[Target]:
    """Several files -> [Target], each [1, R, R, channels]; the first bad file raises InputError naming it."""
    if not paths:
        raise ValueError("no target images given")
    return [prepare_target(p, resolution, channels) for p in paths]


def load_target(path: str | os.PathLike, resolution: int, channels: int = 3) -> np.ndarray:
    """Image file -> [1, R, R, channels] float32 in [-1, 1] (channels 3 or 1).

    Raises ValueError naming the file when it is missing, unreadable, too small or fully transparent.
    """
    return prepare_target(path, resolution, channels).pixels


def load_targets(paths: Sequence[str | os.PathLike], resolution: int, channels: int = 3) -> np.ndarray:
    """Several files -> [N, R, R, channels] float32 in [-1, 1]."""
    return np.concatenate([t.pixels for t in prepare_targets(paths, resolution, channels)])
