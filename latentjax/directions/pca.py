"""Principal component analysis of latents in pure JAX (paper 000 Sec. 4.1: explained variance, PC1 extremes).

Shapes: latents [N, D] -> components [k, D] (orthonormal rows), explained_variance [k],
explained_variance_ratio [k] (fraction of the total variance, as sklearn's PCA), mean [D].
Sign convention: each component's largest-magnitude entry is positive (deterministic; sklearn
>= 1.5 uses the same rule, older versions may differ by sign).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp


@dataclass(frozen=True)
class PCA:
    components: jax.Array  # [k, D]
    explained_variance: jax.Array  # [k], unbiased (divided by N - 1)
    explained_variance_ratio: jax.Array  # [k]
    mean: jax.Array  # [D]


@functools.partial(jax.jit, static_argnames=("k",))
def _pca(x: jax.Array, k: int) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    mean = x.mean(axis=0)
    _, s, vt = jnp.linalg.svd(x - mean, full_matrices=False)
    var = s**2 / (x.shape[0] - 1)
    comps = vt[:k]
    sign = jnp.sign(comps[jnp.arange(k), jnp.argmax(jnp.abs(comps), axis=1)])
    return comps * sign[:, None], var[:k], var[:k] / var.sum(), mean


def pca(latents, k: int) -> PCA:
    """Top-k principal components of latents [N, D] (SVD of the centred data), 1 <= k <= min(N, D)."""
    x = jnp.asarray(latents, jnp.float32)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"latents must be [N, D] with N >= 2, got shape {x.shape}")
    if not 1 <= k <= min(x.shape):
        raise ValueError(f"k must be in [1, min(N, D) = {min(x.shape)}], got {k}")
    return PCA(*_pca(x, int(k)))


def to_pca(latents, p: PCA) -> jax.Array:
    """latents [N, D] -> scores [N, k] on the principal components."""
    return (jnp.asarray(latents, jnp.float32) - p.mean) @ p.components.T


def from_pca(scores, p: PCA) -> jax.Array:
    """scores [N, k] -> latents [N, D] in the span of the components (plus the mean)."""
    return jnp.asarray(scores, jnp.float32) @ p.components + p.mean
