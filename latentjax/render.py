"""Batched generation from seeds or saved latents (the engine behind `latentjax generate`)."""

from __future__ import annotations

from collections.abc import Iterator

import jax
import numpy as np

from latentjax import validate
from latentjax.generator import Generator
from latentjax.latent import broadcast_ws
from latentjax.sharding import iter_padded


def load_ws(path: str, G: Generator) -> np.ndarray:
    """Latents from an .npz: 'ws' [N, num_ws, w_dim], or 'w' [N, w_dim] (broadcast to W+).

    InputError naming the file when it is missing, not an .npz (never unpickled), lacks both
    arrays, or holds latents of the wrong shape, a complex dtype or non-finite values.
    """
    f = validate.read_npz(path, "latents")
    cfg = G.config
    want = (cfg.num_ws, cfg.w_dim)
    if "ws" in f:
        ws = f["ws"]
        if ws.ndim == 2 and ws.shape == want:
            ws = ws[None]
        ws = validate.real_array(ws, f"{path}: ws", ("N", *want), min_rows=1)
    elif "w" in f:
        w = validate.real_array(f["w"], f"{path}: w", ("N", cfg.w_dim), min_rows=1)
        ws = np.asarray(broadcast_ws(w, cfg.num_ws))
    else:
        raise validate.InputError(
            f"{path}: needs an array 'ws' [N, {want[0]}, {want[1]}] or 'w' [N, {want[1]}]; it holds {sorted(f)}"
        )
    return np.asarray(ws, np.float32)


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
    for i, (n, chunk) in enumerate(iter_padded(ws, batch), start=first_batch):
        k = None if key is None else jax.random.fold_in(key, i)
        yield np.asarray(G.synthesis(chunk, noise_mode=noise_mode, key=k))[:n]
