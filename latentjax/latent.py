"""Pure operations on latents: truncation, W -> W+ broadcast, style mixing.

Shapes: z: [N, z_dim], w: [N, w_dim], ws (W+): [N, num_ws, w_dim], w_avg: [w_dim].
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp


def broadcast_ws(w: jax.Array, num_ws: int) -> jax.Array:
    """W -> W+: repeat w: [N, w_dim] on every layer -> [N, num_ws, w_dim]."""
    return jnp.broadcast_to(w[:, None, :], (w.shape[0], num_ws, w.shape[-1]))


def truncate(ws: jax.Array, w_avg: jax.Array, psi=1.0, cutoff=None) -> jax.Array:
    """Truncation trick: w_avg + psi * (ws - w_avg) on layers [0, cutoff).

    Our meaning of cutoff (one for both architectures): None = every layer, as StyleGAN2.
    StyleGAN v1's G_style instead treats cutoff=None as "no truncation"; call it with psi=1.0
    to get that. v1's own defaults (psi 0.7, cutoff 8) are `truncate(ws, avg, 0.7, 8)`.
    psi and cutoff may be traced values, so sweeping them does not recompile.
    """
    num_ws = ws.shape[1]
    cutoff = num_ws if cutoff is None else cutoff
    mask = (jnp.arange(num_ws) < cutoff)[None, :, None]
    return jnp.where(mask, w_avg + (ws - w_avg) * jnp.asarray(psi, ws.dtype), ws)  # later rows bit-exact


def layer_mask(num_ws: int, layers: Sequence[int] | int) -> jax.Array:
    """Boolean [num_ws] mask: an int k means the crossover layers >= k; a sequence lists layers."""
    idx = jnp.arange(num_ws)
    if isinstance(layers, int):
        return idx >= layers
    mask = jnp.zeros(num_ws, bool)
    return mask.at[jnp.asarray(list(layers), jnp.int32)].set(True) if len(layers) else mask


def style_mix(ws_a: jax.Array, ws_b: jax.Array, layers: Sequence[int] | int) -> jax.Array:
    """Rows of ws_b on `layers` (crossover int k: layers >= k, as NVIDIA), ws_a elsewhere."""
    mask = layer_mask(ws_a.shape[1], layers)
    return jnp.where(mask[None, :, None], ws_b, ws_a)
