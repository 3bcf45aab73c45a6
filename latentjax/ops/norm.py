"""Normalisations and the fused bias + activation, as in NVIDIA's code."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

SQRT2 = float(np.sqrt(2.0))


def pixel_norm(x: jax.Array, axis: int = -1, eps: float = 1e-8) -> jax.Array:
    """x / sqrt(mean(x^2) + eps) along `axis` (StyleGAN `pixel_norm`, StyleGAN2 `Normalize`)."""
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=axis, keepdims=True) + eps)


def instance_norm(x: jax.Array, eps: float = 1e-8) -> jax.Array:
    """Per-sample, per-channel normalisation over H, W of x: [N, H, W, C] (StyleGAN AdaIN part)."""
    x = x - jnp.mean(x, axis=(1, 2), keepdims=True)
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=(1, 2), keepdims=True) + eps)


def leaky_relu(x: jax.Array, alpha: float = 0.2) -> jax.Array:
    return jnp.maximum(x * alpha, x)


def activate(x: jax.Array, act: str) -> jax.Array:
    """Unscaled nonlinearity by name: 'linear', 'relu' or 'lrelu' (slope 0.2)."""
    if act == "linear":
        return x
    if act == "relu":
        return jax.nn.relu(x)
    if act == "lrelu":
        return leaky_relu(x)
    raise ValueError(f"unknown activation {act!r}")


def bias_act(
    x: jax.Array, bias: jax.Array | None, act: str = "linear", gain: float | None = None, clamp: float | None = None
) -> jax.Array:
    """StyleGAN2 `fused_bias_act`: act(x + bias) * gain, then clip to [-clamp, clamp].

    gain defaults to sqrt(2) for relu/lrelu and 1 for linear, as NVIDIA's `bias_act`.
    Bias broadcasts over the last (channel) axis.
    """
    if bias is not None:
        x = x + bias
    if gain is None:
        gain = 1.0 if act == "linear" else SQRT2
    x = activate(x, act)
    if gain != 1.0:
        x = x * gain
    if clamp is not None:
        x = jnp.clip(x, -clamp, clamp)
    return x
