"""Editing in W* (paper 002 Sec. 4, "Image Editing"): InterFaceGAN normals are fitted by an SVM
on T(w), the code is moved along a normal in W*, and mapped back to W+ for the generator:

    w' = T^-1(T(w) + strength * n)

Shapes: ws is either W+ [N, num_ws, w_dim] (flattened to [N, cfg.dim] for T and restored) or
flat [N, cfg.dim] (e.g. W-only latents, cfg.dim = w_dim); every function returns ws' in the
shape it was given.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.flow.losses import as_flat, check_finite
from latentjax.flow.realnvp import FlowConfig, forward, inverse


def _restore(x: jax.Array, like_shape: tuple) -> jax.Array:
    return x.reshape(like_shape)


def to_wstar(params: dict, ws, *, cfg: FlowConfig) -> jax.Array:
    """w* = T(w); ws [N, num_ws, w_dim] or [N, D] -> same shape."""
    ws = jnp.asarray(ws)
    y, _ = forward(params, as_flat(ws, cfg.dim, "ws"), cfg=cfg)
    return _restore(y, ws.shape)


def from_wstar(params: dict, wstar, *, cfg: FlowConfig) -> jax.Array:
    """w = T^-1(w*); wstar [N, num_ws, w_dim] or [N, D] -> same shape."""
    wstar = jnp.asarray(wstar)
    x, _ = inverse(params, as_flat(wstar, cfg.dim, "wstar"), cfg=cfg)
    return _restore(x, wstar.shape)


def edit_wstar(params: dict, ws, normal, strength, *, cfg: FlowConfig) -> jax.Array:
    """ws' = T^-1(T(ws) + strength * normal), in the shape of ws.

    normal: [D] or [num_ws, w_dim] (a W* direction; used as given: InterFaceGAN's SVM normals,
    `svm_direction(...).direction`, are unit). strength: scalar or [N] (one per sample).
    """
    ws = jnp.asarray(ws)
    x = as_flat(ws, cfg.dim, "ws")
    n = jnp.asarray(normal)
    if n.size != cfg.dim or n.ndim not in (1, 2):
        raise ValueError(f"normal must be [{cfg.dim}] or [num_ws, w_dim] with {cfg.dim} entries, got {tuple(n.shape)}")
    check_finite("normal", n)
    s = jnp.asarray(strength, jnp.float32)
    if s.ndim > 1 or (s.ndim == 1 and s.shape[0] != x.shape[0]):
        raise ValueError(f"strength must be a scalar or [N] = [{x.shape[0]}], got shape {tuple(s.shape)}")
    check_finite("strength", s)
    y, _ = forward(params, x, cfg=cfg)
    out, _ = inverse(params, y + s.reshape(-1, 1) * n.reshape(1, cfg.dim).astype(jnp.float32), cfg=cfg)
    return _restore(out, ws.shape)


def fit_wstar_normals(
    params: dict, ws, scores, *, cfg: FlowConfig, fraction: float = 0.02, C: float = 1.0, seed: int = 0
) -> np.ndarray:
    """InterFaceGAN normals in W*: one `svm_direction` per attribute on T(ws) (paper Sec. 4).

    ws [N, D] or [N, num_ws, w_dim]; scores [N, A] (classifier probabilities/logits, or labels)
    -> unit normals [A, D] float32, + towards high scores; use a row as `edit_wstar`'s normal.
    """
    from latentjax.directions.linear import svm_direction

    wstar = np.asarray(to_wstar(params, as_flat(ws, cfg.dim, "ws"), cfg=cfg), np.float64)
    s = np.asarray(scores, np.float64)
    if s.ndim != 2 or s.shape[0] != wstar.shape[0]:
        raise ValueError(f"scores must be [N, A] with N = {wstar.shape[0]}, got shape {s.shape}")
    normals = [svm_direction(wstar, s[:, a], fraction=fraction, C=C, seed=seed).direction for a in range(s.shape[1])]
    return np.stack(normals).astype(np.float32)


def edit_in_wstar(model, ws, attribute: str, strength: float) -> np.ndarray:
    """Generator latents ws [N, num_ws, w_dim] edited along `attribute`'s W* normal of a `FlowModel`
    (`latentjax flow train`): T^-1(T(x) + strength n) with x = w (a "w" flow: rows must be equal) or
    the flattened W+ ("w+" flow). Returns [N, num_ws, w_dim] float32."""
    if model.normals is None:
        raise ValueError("this flow has no W* normals (train it with latentjax flow train / fit_wstar)")
    if attribute not in model.attributes:
        raise ValueError(f"unknown attribute {attribute!r}; the flow knows {', '.join(model.attributes)}")
    ws = np.asarray(ws, np.float32)
    if ws.ndim != 3:
        raise ValueError(f"ws must be [N, num_ws, w_dim], got shape {ws.shape}")
    normal = model.normals[model.attributes.index(attribute)]
    if model.cfg.dim == ws.shape[2]:  # a W flow: one w per image
        if not np.allclose(ws, ws[:, :1], atol=1e-6):
            raise ValueError("this flow acts on W (one w per image) but the ws rows differ; train a w+ flow")
        out = np.asarray(edit_wstar(model.params, ws[:, 0], normal, strength, cfg=model.cfg))
        return np.ascontiguousarray(np.broadcast_to(out[:, None], ws.shape))
    if model.cfg.dim != ws.shape[1] * ws.shape[2]:
        raise ValueError(f"the flow acts on {model.cfg.dim}-d latents; ws {ws.shape} are neither W nor flat W+")
    return np.asarray(edit_wstar(model.params, ws, normal, strength, cfg=model.cfg))
