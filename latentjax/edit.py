"""Linear latent edits: w' = w + lambda d (paper 000 Sec. 5), on chosen W+ layers, swept,
combined, and paper 000's fix-and-resample.

Shapes: ws (W+): [N, num_ws, w_dim]; latents (Z or W): [N, D]; direction: [D] / [w_dim], or
[num_ws, w_dim] for a per-layer direction; strength: scalar or [N].
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import validate
from latentjax.latent import layer_mask, layer_set


def _strength(strength, x: jax.Array) -> jax.Array:
    """scalar or [N] -> broadcastable against x: [N, ...], in x's dtype."""
    s = jnp.asarray(strength, x.dtype)
    return s.reshape(s.shape + (1,) * (x.ndim - s.ndim))


def shift(latents: jax.Array, direction: jax.Array, strength) -> jax.Array:
    """latents + strength * direction; latents: [N, D] (Z or W), direction: [D], strength: scalar or [N]."""
    latents = validate.real_array(latents, "latents", ("N", "D"))
    direction = validate.real_array(direction, "direction", (latents.shape[-1],))
    return latents + _strength(strength, latents) * jnp.asarray(direction, latents.dtype)


Layers = Sequence[int] | Sequence[str] | int | str | None  # see `edit`


def edit(ws: jax.Array, direction: jax.Array, strength, layers: Layers = None) -> jax.Array:
    """ws + strength * direction on `layers` only; other rows are returned bit-exactly.

    ws: [N, num_ws, w_dim]; direction: [w_dim] (same on every layer) or [num_ws, w_dim];
    strength: scalar or [N]. layers: None (all), a group name for `layer_set` ("coarse",
    "middle", "fine", or a tuple of names), a list of rows, or an int k (rows >= k, as
    `style_mix`). StyleGAN-Encoder's layer-range edit (paper 000 Sec. 2: w' on the 4^2-64^2
    blocks, w above) is layers=range(10).
    """
    ws = validate.real_array(ws, "ws", ("N", "num_ws", "w_dim"))
    num_ws = ws.shape[1]
    # [1, w_dim] or a z-sized vector would broadcast or fail deep inside: only the two documented forms.
    direction = validate.edit_direction(direction, num_ws, ws.shape[2])
    d = jnp.broadcast_to(jnp.asarray(direction, ws.dtype), ws.shape[1:])
    edited = ws + _strength(strength, ws) * d
    if layers is None:
        return edited
    named = isinstance(layers, str) or (isinstance(layers, (list, tuple)) and all(isinstance(g, str) for g in layers))
    if named and layers:
        rows = layer_set(layers, num_ws)
    elif isinstance(layers, (int, np.integer)) and not isinstance(layers, bool):
        rows = validate.integer(layers, "layers", lo=0, hi=num_ws)
    else:
        rows = validate.layer_rows(layers, num_ws)  # rows the model lacks would silently edit nothing
    return jnp.where(layer_mask(num_ws, rows)[None, :, None], edited, ws)


def sweep(ws: jax.Array, direction: jax.Array, strengths, layers: Layers = None) -> jax.Array:
    """`edit` at every strength: ws [N, num_ws, w_dim], strengths [S] -> [S, N, num_ws, w_dim]
    (paper 000 Fig. 7's extrapolation rows; strengths may be negative)."""
    strengths = jnp.asarray(strengths, ws.dtype)
    return jax.vmap(lambda s: edit(ws, direction, s, layers))(strengths)


def combine(directions: jax.Array, weights) -> jax.Array:
    """Weighted sum of directions: [K, ...] with weights [K] -> [...].

    Paper 000 Fig. 11 interpolates two extrapolated latents, lambda (w + a d1) + (1 - lambda)
    (w + b d2) = w + (lambda a d1 + (1 - lambda) b d2): `shift(w, combine([d1, d2],
    [lambda a, (1 - lambda) b]), 1)`. No normalisation, so weights keep their meaning.
    """
    directions = jnp.asarray(directions)
    weights = jnp.asarray(weights, directions.dtype)
    return jnp.tensordot(weights, directions, axes=1)


def fixed_entries(direction: jax.Array, n_fixed: int) -> jax.Array:
    """Indices [n_fixed] (int32) of the largest |direction| entries, largest first (ties: lower index)."""
    return jax.lax.top_k(jnp.abs(direction), n_fixed)[1].astype(jnp.int32)


def fix_and_resample(
    w: jax.Array, direction: jax.Array, n_fixed: int, key: jax.Array, w_pool: jax.Array, num: int | None = None
) -> jax.Array:
    """Paper 000 Fig. 6: keep the entries of w that encode an attribute, resample the rest.

    w: [w_dim]; direction: [w_dim] (e.g. an L1 logistic-regression direction, whose largest |d|
    entries encode the attribute); w_pool: [M, w_dim] samples of the mapping distribution (e.g.
    `G.mapping(z)[:, 0]` for random z). Draws `num` distinct pool rows (default: all M, in a
    random order) with `key` and overwrites their `fixed_entries(direction, n_fixed)` with w's.
    Whole rows are reused, not single entries: W's entries are correlated, so the unfixed part
    stays a real sample. Returns [num, w_dim].
    """
    w_pool = jnp.asarray(w_pool)
    m = w_pool.shape[0]
    num = m if num is None else num
    if not 0 <= n_fixed <= w.shape[-1]:
        raise ValueError(f"n_fixed must be in [0, {w.shape[-1]}], got {n_fixed}")
    if num > m:
        raise ValueError(f"num={num} exceeds the pool size {m}: rows are drawn without replacement")
    rows = jax.random.choice(key, m, (num,), replace=False)
    keep = jnp.zeros(w.shape[-1], bool).at[fixed_entries(direction, n_fixed)].set(True)
    return jnp.where(keep[None, :], jnp.asarray(w, w_pool.dtype)[None, :], w_pool[rows])
