"""Seeds or saved latents -> a folder of PNGs, a grid and the latents (`latentjax generate`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentjax.generator import Generator, check_noise_mode
from latentjax.progress import Progress


@dataclass(frozen=True)
class GeneratedImages:
    """What `generate_images` wrote: `count` images (all processes) as NAME.png, grid.png and
    latents.npz (process 0) in `outdir`; `names` are this process's PNG stems."""

    outdir: Path
    count: int
    names: tuple[str, ...]


def generate_images(
    G: Generator,
    outdir: str | os.PathLike,
    *,
    seeds: Sequence[int] | None = None,
    ws: np.ndarray | None = None,
    psi: float = 1.0,
    cutoff: int | None = None,
    noise_mode: str = "const",
    noise_seed: int = 0,
    batch: int = 16,
    grid_cols: int | None = None,
    progress: Progress = None,
) -> GeneratedImages:
    """Render `seeds` (NVIDIA's seed -> z, then mapping with psi / cutoff) or W+ codes `ws`
    [N, num_ws, w_dim] and write seedNNNN.png (wsNNNN.png), grid.png and latents.npz (ws, and z + seeds).

    The folder is made only after the latents are computed (bad seeds or psi leave none). Several
    processes: each renders a block of whole batches (the same batches, so the same pixels, as one
    process) and writes its own PNGs; process 0 writes grid.png and latents.npz.
    progress (`latentjax.progress`): told (rendered, total) after each batch, this process's images.
    """
    import jax

    from latentjax.distributed import allgather_arrays
    from latentjax.media import make_grid, save_png, to_uint8
    from latentjax.progress import Reporter
    from latentjax.render import iter_batches
    from latentjax.seeds import z_from_seeds
    from latentjax.sharding import map_batches, process_block

    check_noise_mode(noise_mode)
    if (seeds is None) == (ws is None):
        raise ValueError("give seeds or ws (one of them)")
    if ws is not None:
        zs = None
        names = [f"ws{i:04d}" for i in range(len(ws))]
    else:
        zs = z_from_seeds(list(seeds), G.config.z_dim)
        ws = map_batches(lambda z: G.mapping(z, psi, cutoff), zs, batch)  # padded chunks: one compile
        names = [f"seed{s:04d}" for s in seeds]
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    key = jax.random.key(noise_seed) if noise_mode == "random" else None
    b0, b1 = process_block(-(-len(ws) // batch))
    lo, hi = b0 * batch, min(b1 * batch, len(ws))
    thumbs = []
    with Reporter(progress, hi - lo, "generate", "img") as rep:
        for imgs in iter_batches(G, ws[lo:hi], batch, noise_mode, key, first_batch=b0):
            for img in to_uint8(imgs):
                save_png(out / f"{names[lo + len(thumbs)]}.png", img)
                thumbs.append(img)
            rep.update(len(imgs))
    c = G.config
    mine = np.stack(thumbs) if thumbs else np.zeros((0, c.resolution, c.resolution, c.img_channels), np.uint8)
    everything = allgather_arrays({"px": mine}, "gathering images for grid.png")["px"]
    if jax.process_index() == 0:
        save_png(out / "grid.png", make_grid(everything, grid_cols))
        extra = {} if zs is None else {"z": zs, "seeds": np.asarray(seeds)}
        np.savez(out / "latents.npz", ws=ws, **extra)
    return GeneratedImages(out, len(ws), tuple(names[lo:hi]))
