"""Conditional directions: edit one attribute while leaving others untouched (InterFaceGAN Sec. 2.3).

For unit boundary normals n_1 (primal) and n_2..n_K (conditions), moving along the part of n_1
orthogonal to span(n_2..n_K) changes the primal score and, to first order, none of the others.
With one condition this is n_1 - (n_1 . n_2) n_2; with several it is the projection onto the
orthogonal complement of their span (Gram-Schmidt on the conditions first). We orthonormalise
the conditions with an SVD so that dependent or repeated conditions do not remove extra
directions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def orthonormal_basis(vectors: jax.Array, rtol: float = 1e-6) -> jax.Array:
    """vectors [K, D] -> [D, K] whose non-zero columns are an orthonormal basis of their span.

    Columns for numerically dependent directions (singular value <= rtol * largest) are zero,
    so the output shape does not depend on the rank (jit-friendly).
    """
    u, s, _ = jnp.linalg.svd(vectors.T, full_matrices=False)  # u: [D, K]
    keep = s > rtol * jnp.max(s)
    return u * keep[None, :].astype(u.dtype)


def project_off(direction: jax.Array, others: jax.Array, rtol: float = 1e-6) -> jax.Array:
    """direction [D] minus its component in span(others [K, D]); not normalised."""
    basis = orthonormal_basis(others, rtol)
    return direction - basis @ (basis.T @ direction)


def condition(direction, others, rtol: float = 1e-6) -> jax.Array:
    """Unit vector [D] along `direction` [D] with span(others) ([D] or [K, D]) projected out.

    Raises ValueError (outside jit) if `direction` lies in span(others), where no such edit exists.
    """
    d = jnp.asarray(direction, jnp.float32)
    o = jnp.atleast_2d(jnp.asarray(others, jnp.float32))
    if d.ndim != 1 or o.ndim != 2 or o.shape[1] != d.shape[0]:
        raise ValueError(f"direction must be [D] and others [D] or [K, D]; got {d.shape} and {o.shape}")
    residual = project_off(d, o, rtol)
    norm = jnp.linalg.norm(residual)
    if not isinstance(norm, jax.core.Tracer) and not float(norm) > 1e-4 * float(jnp.linalg.norm(d)):
        raise ValueError("direction lies in the span of the conditioning directions: nothing is left after projection")
    return residual / norm
