"""Fill our variables pytree from converted arrays, checking every name and shape."""

from __future__ import annotations

import jax
import numpy as np

from latentjax.config import GeneratorConfig
from latentjax.errors import LoadError


def expected_shapes(cfg: GeneratorConfig) -> dict:
    """Flat {path tuple: shape} of every variable of a generator with this config (no compute)."""
    from latentjax.nets.network import init_variables

    tree = jax.eval_shape(lambda k: init_variables(cfg, k), jax.random.key(0))
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {tuple(p.key for p in path): tuple(leaf.shape) for path, leaf in flat}


def build_variables(cfg: GeneratorConfig, arrays: dict[tuple[str, ...], np.ndarray], source: str) -> dict:
    """Nest `arrays` (flat paths as in `expected_shapes`) into a variables dict.

    Every expected variable must be present with its exact shape, values must be finite;
    otherwise a LoadError names the first offending variable.
    """
    want = expected_shapes(cfg)
    out: dict = {}
    for path, shape in want.items():
        if path not in arrays:
            raise LoadError(f"{source}: missing variable for {'/'.join(path)} (shape {shape})")
        a = np.asarray(arrays[path])
        if a.dtype.kind not in "fiu" or tuple(a.shape) != shape:
            raise LoadError(f"{source}: {'/'.join(path)} has shape {a.shape} dtype {a.dtype}, expected {shape} float")
        a = a.astype(np.float32)
        if not np.all(np.isfinite(a)):
            raise LoadError(f"{source}: {'/'.join(path)} contains NaN or infinite values")
        node = out
        for k in path[:-1]:
            node = node.setdefault(k, {})
        node[path[-1]] = a
    return out
