"""Batched generation from seeds or saved latents (the engine behind `latentjax generate`)."""

from __future__ import annotations

from collections.abc import Iterator

import jax
import numpy as np

from latentjax.generator import Generator
from latentjax.latent import broadcast_ws


def load_ws(path: str, G: Generator) -> np.ndarray:
    """Latents from an .npz: 'ws' [N, num_ws, w_dim], or 'w' [N, w_dim] (broadcast to W+)."""
    with np.load(path) as f:
        if "ws" in f:
            ws = f["ws"]
        elif "w" in f:
            ws = np.asarray(broadcast_ws(np.asarray(f["w"], np.float32), G.config.num_ws))
        else:
            raise ValueError(f"{path}: needs an array 'ws' [N, num_ws, w_dim] or 'w' [N, w_dim]")
    want = (G.config.num_ws, G.config.w_dim)
    if ws.ndim == 2 and ws.shape == want:
        ws = ws[None]
    if ws.ndim != 3 or ws.shape[1:] != want:
        raise ValueError(f"{path}: ws has shape {ws.shape}, this generator needs [N, {want[0]}, {want[1]}]")
    return ws.astype(np.float32)


def iter_batches(
    G: Generator,
    ws: np.ndarray,
    batch: int,
    noise_mode: str = "const",
    key: jax.Array | None = None,
    first_batch: int = 0,
) -> Iterator[np.ndarray]:
    """Yield raw images [b, H, W, C] (numpy) for consecutive chunks of ws: [N, num_ws, w_dim].

    Every chunk is padded to `batch` rows so one compiled program serves the whole run. Chunk i's
    random noise comes from fold_in(key, first_batch + i): a process rendering batches from
    `first_batch` on draws the same noise as one process rendering them all.
    """
    for i, start in enumerate(range(0, len(ws), batch), start=first_batch):
        chunk = ws[start : start + batch]
        n = len(chunk)
        if n < batch:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch - n, axis=0)])
        k = None if key is None else jax.random.fold_in(key, i)
        yield np.asarray(G.synthesis(chunk, noise_mode=noise_mode, key=k))[:n]
