"""Parameter declarations shared by the Flax modules (initialisers as NVIDIA's, wscale=True)."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


def normal_param(module: nn.Module, name: str, shape, std: float = 1.0) -> jax.Array:
    return module.param(name, nn.initializers.normal(std), tuple(shape), jnp.float32)


def const_param(module: nn.Module, name: str, shape, value: float = 0.0) -> jax.Array:
    return module.param(name, nn.initializers.constant(value), tuple(shape), jnp.float32)


def noise_buffer(module: nn.Module, res: int) -> jax.Array:
    """The stored per-layer noise map [res, res] used by noise_mode='const' (collection 'buffers')."""
    var = module.variable("buffers", "noise_const", lambda: jax.random.normal(module.make_rng("params"), (res, res)))
    return var.value


def add_noise(x: jax.Array, noise: jax.Array | None, const: jax.Array, strength: jax.Array) -> jax.Array:
    """x: [N, H, W, C] + noise: [N|1, H, W] (None -> the stored map) * strength: [] or [C]."""
    n = const[None] if noise is None else noise
    return x + n[..., None] * strength
