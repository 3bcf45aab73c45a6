"""Pure operations on latents: truncation, W -> W+ broadcast, style mixing, interpolation,
layer groups and the one layer-spec decoder (`resolve_layers`).

Shapes: z: [N, z_dim], w: [N, w_dim], ws (W+): [N, num_ws, w_dim], w_avg: [w_dim].
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.errors import InputError


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


# ---- interpolation ------------------------------------------------------------------------------


def _expand_t(t, x: jax.Array) -> jax.Array:
    """t: scalar or [N] (or any leading prefix of x's shape) -> broadcastable against x, x's dtype."""
    t = jnp.asarray(t, x.dtype)
    return t.reshape(t.shape + (1,) * (x.ndim - t.ndim))


def lerp(a: jax.Array, b: jax.Array, t) -> jax.Array:
    """Linear interpolation (1 - t) a + t b; a, b: [N, ...], t: scalar or [N].

    The two-product form (not a + t (b - a)) returns a and b bit-exactly at t = 0 and t = 1.
    This is the W-space path of paper 003's perceptual path length and paper 000 Sec. 3.3.
    """
    t = _expand_t(t, a)
    return (1 - t) * a + t * b


def _unit(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """x / |x| over the last axis (guarded: a zero vector stays zero, no NaN), and |x| [..., 1]."""
    norm = jnp.linalg.norm(x, axis=-1, keepdims=True)
    return x / jnp.maximum(norm, jnp.finfo(x.dtype).tiny), norm


def slerp(a: jax.Array, b: jax.Array, t, rescale: bool = False) -> jax.Array:
    """Spherical interpolation over the last axis; a, b: [N, D] (or [D]), t: scalar or [N].

    As the Z-space path of NVIDIA's perceptual-path-length code (paper 003): a and b are
    normalised, the angle between them is interpolated along the great circle, and the result
    is the *unit direction* (rescale=False, NVIDIA's behaviour). The generator does not lose
    anything by this when normalize_latents is on: the mapping network's first op pixel-norms
    z. rescale=True multiplies by the lerp of |a| and |b| instead, so t = 0, 1 give a, b back.

    Degenerate pairs give no NaN: parallel inputs give a constant path, and antiparallel ones
    (no unique great circle) turn towards the coordinate axis least aligned with a.
    """
    a_hat, a_norm = _unit(a)
    b_hat, b_norm = _unit(b)
    cos = jnp.sum(a_hat * b_hat, axis=-1, keepdims=True)
    perp = b_hat - cos * a_hat  # component of b orthogonal to a: spans the great circle with a
    sin = jnp.linalg.norm(perp, axis=-1, keepdims=True)
    # atan2 keeps the angle accurate near 0 and pi, where acos of a rounded dot product does not.
    theta = jnp.arctan2(sin, cos)
    # Antiparallel (or near): perp is ~0 and its direction is noise; use a fixed orthogonal axis.
    axis = jax.nn.one_hot(jnp.argmin(jnp.abs(a_hat), axis=-1), a.shape[-1], dtype=a.dtype)
    fallback = _unit(axis - jnp.sum(axis * a_hat, axis=-1, keepdims=True) * a_hat)[0]
    ortho = jnp.where((sin <= 1e-6) & (cos < 0), fallback, _unit(perp)[0])
    angle = _expand_t(t, a) * theta
    out = _unit(jnp.cos(angle) * a_hat + jnp.sin(angle) * ortho)[0]
    return out * lerp(a_norm, b_norm, t) if rescale else out


def interpolation_path(keyframes: jax.Array, steps_per_segment: int, mode: str = "lerp") -> jax.Array:
    """Frames through K keyframes: keyframes [K, ...] -> [(K - 1) * steps_per_segment + 1, ...].

    Frame f = s * steps + j lies at t = j / steps between keyframes s and s + 1; every keyframe
    (both endpoints included) is copied in exactly. mode "lerp" (W, W+) or "slerp" (Z: last axis
    is the latent; magnitudes are interpolated linearly, see `slerp(rescale=True)`).
    """
    if mode not in ("lerp", "slerp"):
        raise ValueError(f"mode must be 'lerp' or 'slerp', got {mode!r}")
    if steps_per_segment < 1:
        raise ValueError(f"steps_per_segment must be >= 1, got {steps_per_segment}")
    k = keyframes.shape[0]
    if k < 2:
        return keyframes
    frame = jnp.arange((k - 1) * steps_per_segment + 1, dtype=jnp.int32)
    seg = jnp.minimum(frame // steps_per_segment, k - 2)
    t = (frame - seg * steps_per_segment).astype(keyframes.dtype) / steps_per_segment
    a, b = keyframes[seg], keyframes[seg + 1]
    frames = lerp(a, b, t) if mode == "lerp" else slerp(a, b, t, rescale=True)
    return frames.at[::steps_per_segment].set(keyframes)


# ---- layer groups -------------------------------------------------------------------------------

# Paper 003 Fig. 3 (style mixing): coarse styles 4^2-8^2, middle 16^2-32^2, fine 64^2-1024^2.
BANDS = {"coarse": (4, 8), "middle": (16, 32), "fine": (64, 2**30)}


def ws_resolutions(num_ws: int) -> tuple[int, ...]:
    """Nominal resolution of every W+ row: two rows per resolution from 4x4, both architectures.

    v1 (G_style): rows 2k, 2k+1 drive the two AdaINs of the 2^(k+2) block, exactly. v2: rows
    2k, 2k+1 of the same index convention (NVIDIA's style-mixing scripts), though row 2k+1 also
    feeds ToRGB of 2^(k+2) and the up-sampling conv of the next block.
    """
    if num_ws < 2 or num_ws % 2:
        raise ValueError(f"num_ws must be even and >= 2 (2 * log2(resolution) - 2), got {num_ws}")
    return tuple(2 ** (i // 2 + 2) for i in range(num_ws))


def select_resolutions(resolutions: Sequence[int], which: str | Sequence[str]) -> tuple[int, ...]:
    """Indices i with resolutions[i] in the named band(s): "all", "none", or any of BANDS
    (a sequence unions bands: ("coarse", "middle") is paper 003 Fig. 5's 4^2-32^2 coarse noise)."""
    names = (which,) if isinstance(which, str) else tuple(which)
    if names == ("all",):
        return tuple(range(len(resolutions)))
    if names == ("none",):
        return ()
    unknown = [n for n in names if n not in BANDS]
    if unknown:
        raise ValueError(f"unknown layer group(s) {unknown}: use 'all', 'none' or names from {sorted(BANDS)}")
    return tuple(i for i, r in enumerate(resolutions) if any(BANDS[n][0] <= r <= BANDS[n][1] for n in names))


def layer_set(name: str | Sequence[str], num_ws: int) -> tuple[int, ...]:
    """W+ row indices of a layer group (paper 003 Fig. 3): "coarse" 0-3 (4^2-8^2), "middle" 4-7
    (16^2-32^2), "fine" 8+ (64^2 and up), "all", "none"; empty where the generator has no such
    resolution (a 32x32 generator has num_ws 8: no fine rows). Feeds `layer_mask`, `style_mix`.
    """
    return select_resolutions(ws_resolutions(num_ws), name)


def resolve_layers(spec, num_ws: int) -> list[int]:
    """The one decoder of layer specs (CLI --layers, `edit`, figures, the studio): sorted, distinct W+ rows.

    spec: a group name or names for `layer_set` ("coarse", "middle", "fine", "all", "none"; joined as
    "coarse,middle" or a sequence ("coarse", "fine")); rows as text ("0-3", "0,1,5", "0-3,8") or a
    sequence of ints; or an int k, the crossover rows >= k (as `style_mix` and NVIDIA's scripts).
    ValueError naming the spec for unknown names, bad text, non-integer rows or rows the model lacks.
    """
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        if not 0 <= spec <= num_ws:
            raise InputError(f"layers: crossover {int(spec)} out of range: this generator has {num_ws} W+ rows")
        return list(range(int(spec), num_ws))
    if isinstance(spec, str):
        parts = [s.strip() for s in spec.split(",") if s.strip()]
        if parts and all(p.isalpha() for p in parts):
            return list(layer_set(tuple(parts), num_ws))
        rows = []
        for part in parts:
            lo, _, hi = part.partition("-")
            if not (lo.isdigit() and (hi == "" or hi.isdigit())):
                raise InputError(f"bad layer spec {spec!r}: use coarse/middle/fine/all or rows like 0-3,8")
            rows.extend(range(int(lo), int(hi or lo) + 1))
    elif isinstance(spec, (Sequence, np.ndarray, range)):
        if len(spec) and all(isinstance(g, str) for g in spec):
            return list(layer_set(tuple(spec), num_ws))
        rows = list(spec)
        wrong = [r for r in rows if isinstance(r, bool) or not isinstance(r, (int, np.integer))]
        if wrong:
            raise InputError(f"layers: expected integer W+ rows, got {wrong[0]!r}")
    else:
        raise InputError(f"layers: expected a layer spec (name, rows or int), got {type(spec).__name__} {spec!r}"[:200])
    rows = sorted({int(r) for r in rows})
    bad = [r for r in rows if not 0 <= r < num_ws]
    if bad:
        raise InputError(f"layers: rows {bad} do not exist; this generator has W+ rows 0..{num_ws - 1}")
    return rows
