"""Per-layer noise control and stochastic variation (paper 003 Figs. 4-5, paper 000 Sec. 3.1).

Noise lists follow `Generator.synthesis`: one [N, H, W] map per noise layer, in the official
order of `cfg.noise_resolutions` (v1: two per resolution from 4x4; v2: one at 4x4, then two).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from latentjax.config import GeneratorConfig
from latentjax.generator import Generator, random_noise
from latentjax.latent import select_resolutions


def noise_layers(cfg: GeneratorConfig, which: str | Sequence[str]) -> tuple[int, ...]:
    """Indices of the noise layers in a group, by the resolution the noise is added at.

    which: "all", "none", or band names shared with `latent.layer_set` ("coarse" 4^2-8^2,
    "middle" 16^2-32^2, "fine" 64^2+), alone or as a sequence (union). Paper 003 Fig. 5 (and
    paper 000 Fig. 9) split noise in two: its "coarse" 4^2-32^2 is ("coarse", "middle") here,
    its "fine" 64^2-1024^2 is "fine".
    """
    return select_resolutions(cfg.noise_resolutions, which)


def noise_for(
    cfg: GeneratorConfig, key: jax.Array, n: int, enabled_layers: Sequence[int] | str | Sequence[str]
) -> list[jax.Array]:
    """Per-layer noise list for `Generator.synthesis(ws, noise=...)`: [n, H, W] float32 maps,
    N(0, 1) on the enabled layers and zeros on the others (paper 003 Fig. 5: all / none /
    coarse only / fine only).

    enabled_layers: noise-layer indices, or a group name for `noise_layers`. An enabled layer
    gets the same map as noise_mode="random" with this key, so enabling every layer reproduces
    that mode exactly.
    """
    spec = (enabled_layers,) if isinstance(enabled_layers, str) else tuple(enabled_layers)
    if spec and all(isinstance(e, str) for e in spec):
        spec = noise_layers(cfg, spec)
    num = len(cfg.noise_resolutions)
    enabled = {int(i) for i in spec}
    bad = sorted(i for i in enabled if not 0 <= i < num)
    if bad:
        raise ValueError(f"noise layers {bad} out of range: this generator has {num} noise layers")
    maps = random_noise(cfg, key, n)
    return [m if i in enabled else jnp.zeros_like(m) for i, m in enumerate(maps)]


def std_map(images: jax.Array) -> jax.Array:
    """Per-pixel standard deviation over realisations: images [K, N, H, W, C] -> [N, H, W].

    Std over K per channel, then the channel mean (paper 003 Fig. 4(c) shows one grey map).
    Taken about realisation 0 (std is shift-invariant): identical realisations give exactly 0.
    """
    return jnp.mean(jnp.std(images - images[:1], axis=0), axis=-1)


def stochastic_variation(
    G: Generator,
    ws: jax.Array,
    key: jax.Array,
    k: int,
    enabled_layers: Sequence[int] | str | Sequence[str] = "all",
) -> tuple[jax.Array, jax.Array]:
    """Paper 003's stochastic variation: fixed ws: [N, num_ws, w_dim], K noise realisations.

    Realisation i uses `noise_for(G.config, split(key, k)[i], N, enabled_layers)`. Returns
    images [K, N, H, W, C] (raw) and the per-pixel std map [N, H, W] (`std_map`). One synthesis
    call per realisation, so memory stays that of one batch.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    ws = jnp.asarray(ws, jnp.float32)
    n = ws.shape[0]
    images = jnp.stack(
        [G.synthesis(ws, noise=noise_for(G.config, sub, n, enabled_layers)) for sub in jax.random.split(key, k)]
    )
    return images, std_map(images)
