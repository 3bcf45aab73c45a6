"""Seeds -> latents exactly as NVIDIA's scripts: z = RandomState(seed).randn(1, z_dim)."""

from __future__ import annotations

import re

import numpy as np


def parse_seeds(spec: str) -> list[int]:
    """'0-3,7,10-11' -> [0, 1, 2, 3, 7, 10, 11] (ranges inclusive, as NVIDIA's `num_range`)."""
    seeds: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise ValueError(f"bad seed spec {part!r} in {spec!r} (use e.g. 0-63 or 1,5,7-9)")
        lo, hi = int(m[1]), int(m[2] if m[2] is not None else m[1])
        if hi < lo:
            raise ValueError(f"empty seed range {part!r}")
        seeds.extend(range(lo, hi + 1))
    return seeds


def z_from_seed(seed: int, z_dim: int) -> np.ndarray:
    """[1, z_dim] float32: the same z NVIDIA's generate.py / pretrained_example.py draw for `seed`."""
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    return np.random.RandomState(seed).randn(1, z_dim).astype(np.float32)


def z_from_seeds(seeds: list[int], z_dim: int) -> np.ndarray:
    """[len(seeds), z_dim] float32."""
    return np.concatenate([z_from_seed(s, z_dim) for s in seeds]) if seeds else np.zeros((0, z_dim), np.float32)
