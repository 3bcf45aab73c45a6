"""Image resampling for losses, thumbnails and classifiers: exact area down-sampling and resize."""

from __future__ import annotations

import functools

import jax


def block_mean(images: jax.Array, rows: int, cols: int) -> jax.Array:
    """[N, H, W, C] -> [N, rows, cols, C]: means of the (H / rows) x (W / cols) blocks (exact area
    down-sampling; rows and cols divide H and W)."""
    n, h, w, c = images.shape
    return images.reshape(n, rows, h // rows, cols, w // cols, c).mean(axis=(2, 4))


def area_downsample(images: jax.Array, size: int) -> jax.Array:
    """[N, H, W, C] -> [N, size, size, C] by averaging f x f blocks (torch 'area' for integer factors).

    Images no larger than `size` are returned unchanged (NVIDIA only shrinks images above 256).
    """
    n, h, w, c = images.shape
    if h <= size and w <= size:
        return images
    if h != w or h % size:
        raise ValueError(f"area downsampling needs square images with side a multiple of {size}, got {h}x{w}")
    return block_mean(images, size, size)


@functools.partial(jax.jit, static_argnames=("side",))
def resize_images(images: jax.Array, side: int) -> jax.Array:
    """[N, H, W, C] -> [N, side, side, C] float32: box average when side divides H and W (exact
    area down-sampling, what a thumbnail wants), antialiased bilinear otherwise."""
    n, h, w, c = images.shape
    if (h, w) == (side, side):
        return images
    if h % side == 0 and w % side == 0:
        return block_mean(images, side, side)
    return jax.image.resize(images, (n, side, side, c), "linear", antialias=True)
