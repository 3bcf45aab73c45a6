"""The latent-space vocabulary and the shape checks at the API edge.

Spaces (one name each, used by the CLI, directions, metrics, the projector and the flow):
    "z"   Z, the generator's input            [N, z_dim]
    "w"   W, the mapping's output             [N, w_dim]        (one w for every layer)
    "w+"  W+, one w per synthesis layer       [N, num_ws, w_dim]
    "w*"  W*, paper 002's flow image of W(+)  [N, w_dim] or flattened [N, num_ws * w_dim]

The classic mistake these checks catch: a [N, w_dim] array (a batch of W codes, or one direction
per code) added to W+ codes [N, num_ws, w_dim]. numpy broadcasting would read its N rows as
num_ws per-layer rows when N == num_ws and fail with an opaque shape error otherwise; here it is
broadcast only when asked for (`per_code=True`) and refused with a message otherwise.
numpy only (no jax), so the CLI can use the names while it parses.
"""

from __future__ import annotations

import numpy as np

Z, W, W_PLUS, W_STAR = "z", "w", "w+", "w*"
SPACES = (Z, W, W_PLUS, W_STAR)
MAPPED = (W, W_PLUS)  # spaces of the mapping's output: what synthesis and the projector take
SAMPLED = (Z, W)  # spaces of sampled codes: what the attribute metrics score


def check_space(space: str, allowed: tuple[str, ...] = SPACES) -> str:
    """`space` if it is one of `allowed`, else a ValueError naming both."""
    if space not in allowed:
        raise ValueError(f"space must be one of {allowed}, got {space!r}")
    return space


def code_shape(space: str, cfg) -> tuple[int, ...]:
    """Per-code shape of a space for a generator config: z (z_dim,), w (w_dim,), w+ (num_ws, w_dim)."""
    shapes = {Z: (cfg.z_dim,), W: (cfg.w_dim,), W_PLUS: (cfg.num_ws, cfg.w_dim)}
    return shapes[check_space(space, (Z, W, W_PLUS))]


def direction_for_ws(direction, ws_shape: tuple[int, ...], per_code: bool = False) -> np.ndarray:
    """A direction as an array that broadcasts against W+ codes [N, num_ws, w_dim], on purpose.

    direction: [w_dim] (the same on every layer), [num_ws, w_dim] (one vector per layer),
    [N, num_ws, w_dim] (one per code and layer), or, with per_code=True, [N, w_dim] (one W vector per
    code, on every layer). Any other shape is refused with a message saying which to use.
    Returns [1 | N, 1 | num_ws, w_dim], the same kind of array (a jax array stays one, traced or not).
    """
    d = direction if hasattr(direction, "shape") else np.asarray(direction, np.float32)
    if len(ws_shape) != 3:
        raise ValueError(f"codes must be W+ [N, num_ws, w_dim], got shape {tuple(ws_shape)}")
    n, num_ws, w_dim = ws_shape
    if d.ndim == 0 or d.shape[-1] != w_dim:
        raise ValueError(f"direction of shape {d.shape} for codes with w_dim {w_dim}: its last axis must be {w_dim}")
    if d.ndim == 1:
        return d[None, None]
    if d.ndim == 2 and per_code:
        if d.shape[0] != n:
            raise ValueError(f"per_code=True needs one direction per code, [{n}, {w_dim}], got {d.shape}")
        return d[:, None]
    if d.ndim == 2 and d.shape[0] == num_ws:
        return d[None]
    if d.ndim == 2:
        raise ValueError(
            f"a [{d.shape[0]}, {w_dim}] direction for W+ codes [{n}, {num_ws}, {w_dim}] is ambiguous: a per-layer "
            f"direction has {num_ws} rows; for one W direction per code pass per_code=True; for one direction "
            f"on every layer pass it as [{w_dim}]"
        )
    if d.ndim == 3 and d.shape[0] in (1, n) and d.shape[1] == num_ws:
        return d
    raise ValueError(f"direction of shape {d.shape} does not fit W+ codes [{n}, {num_ws}, {w_dim}]")
