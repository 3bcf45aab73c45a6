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
from latentjax.latent import layer_mask, resolve_layers
from latentjax.latent_types import direction_for_ws


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


def edit(ws: jax.Array, direction: jax.Array, strength, layers: Layers = None, per_code: bool = False) -> jax.Array:
    """ws + strength * direction on `layers` only; other rows are returned bit-exactly.

    ws: [N, num_ws, w_dim]; direction: [w_dim] (same on every layer) or [num_ws, w_dim] (one per
    layer); with per_code=True, [N, w_dim]: one W direction per code, on every layer. Without it a
    [N, w_dim] direction is refused with that hint (unless N == num_ws: then it is the per-layer form;
    `latent_types.direction_for_ws` is the rule).
    strength: scalar or [N]. layers: None (all) or a spec for `latent.resolve_layers`: a group
    name ("coarse", "middle", "fine", "coarse,middle" or a tuple of names), rows ("0-3" or a list),
    or an int k (rows >= k, as `style_mix`). StyleGAN-Encoder's layer-range edit (paper 000 Sec. 2:
    w' on the 4^2-64^2 blocks, w above) is layers=range(10).
    """
    ws = validate.real_array(ws, "ws", ("N", "num_ws", "w_dim"))
    n, num_ws, w_dim = ws.shape
    if per_code:
        direction = validate.real_array(direction, "direction", (n, w_dim))
    else:
        # [1, w_dim] or a z-sized vector would broadcast or fail deep inside: only the two documented forms.
        try:
            direction = validate.edit_direction(direction, num_ws, w_dim)
        except validate.InputError as e:
            if np.ndim(direction) == 2 and np.shape(direction)[0] == n != num_ws:
                raise validate.InputError(f"{e}; for one W direction per code [N, w_dim] pass per_code=True") from None
            raise
    d = jnp.asarray(direction_for_ws(direction, ws.shape, per_code), ws.dtype)  # [1 | N, 1 | num_ws, w_dim]
    edited = ws + _strength(strength, ws) * d
    if layers is None:
        return edited
    rows = resolve_layers(layers, num_ws)  # rows the model lacks would silently edit nothing: refused
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
