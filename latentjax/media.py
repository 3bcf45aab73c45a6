"""Raw generator output -> uint8 pixels, grids, PNG files and animations (GIF / MP4)."""

from __future__ import annotations

import importlib.util
import math
import os
from pathlib import Path

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


def video_available() -> bool:
    """True when imageio and its ffmpeg binary (imageio-ffmpeg) are importable."""
    return all(importlib.util.find_spec(m) is not None for m in ("imageio", "imageio_ffmpeg"))


def save_animation(path: str | os.PathLike, frames: np.ndarray, fps: int = 10) -> Path:
    """uint8 frames [T, H, W, C] -> an MP4 (libx264, as NVIDIA's projector) when imageio + ffmpeg are
    installed, else an animated GIF via Pillow (no extra dependency). `path`'s suffix is replaced by
    .mp4 / .gif; returns the path written."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"frames must be uint8 [T, H, W, C] with T >= 1, got {frames.dtype}{list(frames.shape)}")
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    path = Path(path)
    if video_available():
        import imageio

        out = path.with_suffix(".mp4")
        with imageio.get_writer(out, mode="I", fps=fps, codec="libx264", bitrate="16M") as writer:
            for f in frames:
                writer.append_data(f)
        return out
    return save_gif(path.with_suffix(".gif"), frames, max(1, round(1000 / fps)))


def save_gif(path: str | os.PathLike, frames: np.ndarray, frame_ms: int = 80, pingpong: bool = False) -> Path:
    """uint8 frames [T, H, W, C] (C = 1 or 3) -> a looping animated GIF with Pillow alone (no codec to
    install). pingpong: play forwards then backwards (T + T - 2 frames), so a path loops smoothly."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"frames must be uint8 [T, H, W, C] with T >= 1, got {frames.dtype}{list(frames.shape)}")
    imgs = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f) for f in frames]
    if pingpong:
        imgs += imgs[-2:0:-1]
    path = Path(path)
    imgs[0].save(path, save_all=True, append_images=imgs[1:], duration=frame_ms, loop=0)
    return path


def save_loop(path: str | os.PathLike, frames: np.ndarray, frame_ms: int = 80) -> tuple[Path, int]:
    """uint8 frames [T, H, W, C] played forwards then back (so a path loops without a jump) as `path`:
    .gif (Pillow) or .mp4 (imageio + ffmpeg). Returns (path, frames the file holds: Pillow merges
    identical consecutive GIF frames)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        save_gif(path, frames, frame_ms, pingpong=True)
        with Image.open(path) as im:
            return path, im.n_frames
    if suffix != ".mp4":
        raise ValueError(f"{path}: an animation is .gif or .mp4")
    seq = np.concatenate([frames, frames[-2:0:-1]])
    return save_animation(path, seq, fps=max(1, round(1000 / frame_ms))), len(seq)
