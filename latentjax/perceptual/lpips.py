"""LPIPS (Zhang et al. 2018), VGG variant v0.1, as the official `lpips.LPIPS(net='vgg', version='0.1')`.

    d(x, y) = sum_l mean_hw  w_l . (n(f_l(x)) - n(f_l(y)))^2

f_l: VGG16 relu{1_2, 2_2, 3_3, 4_3, 5_3} of the ScalingLayer-normalised input; n: unit length over
channels, x / (||x||_2 + 1e-10); w_l: the non-negative 1x1 "lin" weights (no bias).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.perceptual.vgg16 import check_images, vgg16_features

LPIPS_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
# Official ScalingLayer constants (lpips/pretrained_networks.py); equal to ImageNet mean/std mapped to [-1, 1].
LPIPS_SHIFT = np.array([-0.030, -0.088, -0.188], np.float32)
LPIPS_SCALE = np.array([0.458, 0.448, 0.450], np.float32)
EPS = 1e-10


def scaling_layer(images: jax.Array) -> jax.Array:
    """[N, H, W, 3] in [-1, 1] -> float32 (x - shift) / scale."""
    return (images.astype(jnp.float32) - jnp.asarray(LPIPS_SHIFT)) / jnp.asarray(LPIPS_SCALE)


def normalize_channels(f: jax.Array, eps: float = EPS) -> jax.Array:
    """f / (sqrt(sum_c f^2) + eps) over the last axis (official `normalize_tensor`).

    Same values as the official; where a feature vector is all zero (dead ReLUs), sqrt's gradient
    at 0 would be inf * 0 = NaN, so the norm is taken through a safe branch (gradient 0 there).
    """
    ss = jnp.sum(jnp.square(f), axis=-1, keepdims=True)
    pos = ss > 0
    norm = jnp.where(pos, jnp.sqrt(jnp.where(pos, ss, jnp.ones_like(ss))), jnp.zeros_like(ss))
    return f / (norm + jnp.asarray(eps, f.dtype))


def lpips_layers(params: dict, x: jax.Array, y: jax.Array) -> dict[str, jax.Array]:
    """Per-layer LPIPS terms {tap: [N] float32}; `lpips` is their sum. x, y: [N, H, W, 3] in [-1, 1]."""
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in shape: {tuple(x.shape)} vs {tuple(y.shape)}")
    check_images(x, LPIPS_LAYERS)
    check_images(y, LPIPS_LAYERS)
    # One VGG pass over [x; y]. Under jit, XLA's fusions leave LPIPS(x, x) ~1e-16 rather than the exact 0
    # of eager mode (rounding, not a bias: far below any meaningful distance).
    both = scaling_layer(jnp.concatenate([x.astype(jnp.float32), y.astype(jnp.float32)]))
    feats = vgg16_features(params["vgg16"], both, LPIPS_LAYERS, normalize=False)
    out = {}
    for tap in LPIPS_LAYERS:
        fx, fy = jnp.split(normalize_channels(feats[tap]), 2)
        d = jnp.square(fx - fy) @ params["lin"][tap]  # 1x1 conv to one channel: [N, h, w]
        out[tap] = jnp.mean(d, axis=(1, 2))
    return out


def lpips(params: dict, x: jax.Array, y: jax.Array) -> jax.Array:
    """LPIPS distance [N] float32 between images x, y [N, H, W, 3] in [-1, 1] (H, W >= 16).

    Pure, jit-able and differentiable; params from `load_lpips_params()`.
    """
    terms = lpips_layers(params, x, y)
    return sum(terms[t] for t in LPIPS_LAYERS)
