"""Per-feature fidelity of a toy generator against the renderer (issue 21, "the first picture").

The whole-image pixel error hides the small features: eyes, glasses rims and the mouth cover a
few percent of the 64x64 canvas. Here each factor gets its own region, the pixels it moves
(as `train.detail_map` weights them), and the error |G(z) - render(factors_of(z))| is averaged
inside it, so a blurred eye or a faint glasses ring shows up as a large number in its row.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.toyfaces.factors import FACTOR_SPECS, FACTORS
from latentjax.toyfaces.render import render

REGION_THRESHOLD = 0.1
"""A pixel is in a factor's region when moving the factor changes it by more than this (sum of
|delta| over RGB, images in [-1, 1]): ~3% of the range per channel, well above anti-aliasing dust."""


def factor_change(factors: jax.Array, images: jax.Array, name: str, delta: float = 0.25) -> jax.Array:
    """How much factor `name` moves each pixel: [N, H, W] (sum over RGB of |change|).

    factors: [N, F]; images = render(factors): [N, H, W, 3]. Continuous factors: the sum of
    |render(f +- delta e_k) - images| (the `detail_map` measure); switch factors (glasses, beard):
    |render with the switch on - render with it off|, so the region exists on faces without it too.
    """
    c = FACTORS.index(name)
    if FACTOR_SPECS[c].kind == "switch":
        on, off = render(factors.at[:, c].set(1.0)), render(factors.at[:, c].set(0.0))
        return jnp.abs(on - off).sum(-1)
    return sum(jnp.abs(render(factors.at[:, c].add(s * delta)) - images) for s in (1.0, -1.0)).sum(-1)


def region_errors(generated, factors, threshold: float = REGION_THRESHOLD) -> dict[str, dict[str, float]]:
    """generated: [N, H, W, 3] in [-1, 1], meant to be render(factors); factors: [N, F].

    Returns {factor: {"error": mean |generated - render| over RGB inside the factor's region,
    "area": mean fraction of the canvas in the region}} plus "whole image" (area 1). For switch
    factors also "error_on" / "error_off": the same over the faces that have / lack the feature
    (nan when there are none), since a faint ring is an error only where glasses are worn.
    """
    g = np.asarray(generated, np.float32)
    f = jnp.asarray(factors, jnp.float32)
    if g.ndim != 4 or g.shape[-1] != 3 or f.ndim != 2 or f.shape[0] != g.shape[0]:
        raise ValueError(f"region_errors: expected images [N, H, W, 3] and factors [N, F], got {g.shape}, {f.shape}")
    target = render(f)
    if target.shape != g.shape:
        raise ValueError(f"region_errors: images {g.shape} do not match the renderer's {tuple(target.shape)}")
    err = np.abs(g - np.asarray(target)).mean(-1)  # [N, H, W]
    out = {"whole image": {"error": float(err.mean()), "area": 1.0}}
    for c, spec in enumerate(FACTOR_SPECS):
        mask = np.asarray(factor_change(f, target, spec.name)) > threshold
        row = {"error": _masked_mean(err, mask), "area": float(mask.mean())}
        if spec.kind == "switch":
            present = np.asarray(f[:, c]) > 0.5
            row["error_on"] = _masked_mean(err[present], mask[present])
            row["error_off"] = _masked_mean(err[~present], mask[~present])
        out[spec.name] = row
    return out


def _masked_mean(err: np.ndarray, mask: np.ndarray) -> float:
    return float(err[mask].mean()) if mask.any() else float("nan")
