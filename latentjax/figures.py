"""The papers' latent-space figures as uint8 pictures: style-mixing grids (paper 003 Fig. 3),
interpolation strips / animations, and noise on all / none / coarse / fine layers with the
stochastic-variation map (paper 003 Figs. 4-5, paper 000 Fig. 9).

Each function returns pixels; the CLI only writes them. Latents come from NVIDIA's seeds
(`seeds.z_from_seeds`), so seed 42 is the same face here as in the official scripts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.generator import Generator
from latentjax.latent import broadcast_ws, interpolation_path, resolve_layers, style_mix
from latentjax.media import make_grid, to_uint8
from latentjax.noise import noise_for, std_map
from latentjax.render import iter_batches
from latentjax.seeds import z_from_seeds


def seeds_to_ws(G: Generator, seeds: Sequence[int], psi: float = 1.0, cutoff: int | None = None) -> np.ndarray:
    """NVIDIA's seed -> z, then mapping with truncation: [len(seeds), num_ws, w_dim] float32."""
    return np.asarray(G.mapping(z_from_seeds(list(seeds), G.config.z_dim), psi, cutoff))


Progress = Callable[[str], None] | None  # told what is about to run ("rendering 25 images (compiling…)")

_compiled: set = set()  # (config, batch, noise mode) rendered before in this process: no compile


def _render(G: Generator, ws, noise_mode: str = "const", batch: int = 64, progress: Progress = None) -> np.ndarray:
    ws = np.asarray(ws, np.float32)
    batch = min(batch, len(ws))  # small figures: one exact-size batch, no padding
    if progress is not None:
        sig = (G.config, batch, noise_mode)
        progress(f"rendering {len(ws)} image(s){'' if sig in _compiled else ' (compiling…)'}")
        _compiled.add(sig)
    return np.concatenate([to_uint8(x) for x in iter_batches(G, ws, batch, noise_mode)])


def style_mixing_grid(
    G: Generator,
    row_seeds: Sequence[int],
    col_seeds: Sequence[int],
    layers: str | Sequence[int] = "coarse",
    psi: float = 1.0,
    noise_mode: str = "const",
    progress: Progress = None,
) -> np.ndarray:
    """Paper 003 Fig. 3 / NVIDIA's style_mixing figure: uint8 [(R+1)H, (C+1)W, 3].

    Top row: the column sources; left column: the row destinations; cell (r, c) takes row r's
    W+ and replaces `layers` with column c's rows (coarse: pose, face shape; fine: colours).
    """
    rows, cols = seeds_to_ws(G, row_seeds, psi), seeds_to_ws(G, col_seeds, psi)
    idx = resolve_layers(layers, G.config.num_ws)
    r, c = len(rows), len(cols)
    mixed = style_mix(jnp.repeat(rows, c, axis=0), jnp.tile(cols, (r, 1, 1)), idx)  # [R*C, num_ws, w_dim]
    img_rows, img_cols = (
        _render(G, rows, noise_mode, progress=progress),
        _render(G, cols, noise_mode, progress=progress),
    )
    img_mix = _render(G, mixed, noise_mode, progress=progress)
    h, w, ch = img_rows.shape[1:]
    cells = np.zeros(((r + 1) * (c + 1), h, w, ch), np.uint8)  # top-left stays blank
    cells[1 : c + 1] = img_cols
    for i in range(r):
        cells[(i + 1) * (c + 1)] = img_rows[i]
        cells[(i + 1) * (c + 1) + 1 : (i + 2) * (c + 1)] = img_mix[i * c : (i + 1) * c]
    return make_grid(cells, c + 1)


def interpolation_frames(
    G: Generator,
    seeds: Sequence[int],
    steps: int = 8,
    space: str = "w",
    psi: float = 1.0,
    noise_mode: str = "const",
    progress: Progress = None,
) -> np.ndarray:
    """Frames through the seeds' latents: uint8 [(len(seeds) - 1) * steps + 1, H, W, 3].

    space "z": slerp between the seeds' z (then mapping and truncation per frame); "w": lerp
    between their mapped w (paper 003's two PPL paths; paper 000 Sec. 3.3 compares them).
    """
    if len(seeds) < 2:
        raise ValueError("interpolation needs at least two seeds")
    z = jnp.asarray(z_from_seeds(list(seeds), G.config.z_dim))
    if space == "z":
        ws = G.mapping(interpolation_path(z, steps, "slerp"), psi)
    elif space == "w":
        w = jnp.asarray(G.mapping(z, psi))[:, 0]
        ws = broadcast_ws(interpolation_path(w, steps, "lerp"), G.config.num_ws)
    else:
        raise ValueError(f"space must be 'z' or 'w', got {space!r}")
    return _render(G, ws, noise_mode, progress=progress)


NOISE_PANELS = (("all", "all"), ("none", "none"), ("coarse", ("coarse", "middle")), ("fine", "fine"))
"""Paper 003 Fig. 5 columns: noise on all layers, none, coarse only (4^2-32^2), fine only (64^2+)."""


def noise_figure(
    G: Generator, seeds: Sequence[int], psi: float = 1.0, k: int = 16, noise_seed: int = 0, progress: Progress = None
) -> np.ndarray:
    """Paper 003 Figs. 4-5 per seed (one row each): the image with noise on all / none / coarse /
    fine layers, then the per-pixel std over k realisations with all noise (stochastic
    variation, normalised to the row's maximum). uint8 [len(seeds) * H, 5 * W, 3]."""
    ws = jnp.asarray(seeds_to_ws(G, seeds, psi))
    n, cfg = ws.shape[0], G.config
    key = jax.random.key(noise_seed)
    if progress is not None:
        sig = (cfg, n, "explicit")
        progress(f"rendering {n} x {len(NOISE_PANELS) + k} images{'' if sig in _compiled else ' (compiling…)'}")
        _compiled.add(sig)
    panels = [to_uint8(G.synthesis(ws, noise=noise_for(cfg, key, n, which))) for _, which in NOISE_PANELS]
    reals = jnp.stack([G.synthesis(ws, noise=noise_for(cfg, kk, n, "all")) for kk in jax.random.split(key, k)])
    std = np.asarray(std_map(reals))  # [N, H, W]
    std = std / np.maximum(std.reshape(n, -1).max(axis=1), 1e-12)[:, None, None]
    panels.append(np.repeat((std[..., None] * 255.0).astype(np.uint8), 3, axis=-1))
    cells = np.stack(panels, axis=1).reshape(n * len(panels), *panels[0].shape[1:])
    return make_grid(cells, len(panels))


def edited_ws(G: Generator, direction, strengths: Sequence[float], z=None, ws=None, psi: float = 1.0, layers=None):
    """W+ latents [S, N, num_ws, w_dim] of every latent edited at every strength by a `Direction`.

    A "z" direction shifts z (`z` required) and maps each shifted z; "w"/"w+" directions edit ws
    (or the mapped z) on `layers`, defaulting to the direction's own layers (None = all rows).
    """
    from latentjax import validate
    from latentjax.edit import edit, shift

    cfg = G.config
    validate.direction_for(direction, cfg.z_dim, cfg.w_dim, cfg.num_ws)
    s = np.atleast_1d(validate.real_array(strengths, "strengths", None))
    if direction.space == "z":
        if z is None:
            raise ValueError("a z-space direction needs z latents (seeds), not saved ws")
        z = jnp.asarray(z, jnp.float32)
        return np.stack([np.asarray(G.mapping(np.asarray(shift(z, direction.vector, lam)), psi)) for lam in s])
    if ws is None:
        ws = G.mapping(z, psi)
    rows = layers if layers is not None else (list(direction.layers) if direction.layers is not None else None)
    vec = direction.vector
    if layers is not None:
        rows = resolve_layers(rows, cfg.num_ws)
    if vec.ndim == 2 and rows is not None:  # per-layer W+ direction given for its layers only
        if len(rows) != len(vec):
            raise validate.InputError(f"layers: the per-layer direction has {len(vec)} rows, {len(rows)} layers given")
        full = np.zeros((G.config.num_ws, vec.shape[1]), np.float32)
        full[list(rows)] = vec
        vec = full
    return np.stack([np.asarray(edit(jnp.asarray(ws), vec, float(lam), rows)) for lam in s])


def edit_strip(G: Generator, ws_edits: np.ndarray, noise_mode: str = "const") -> np.ndarray:
    """ws_edits [S, N, num_ws, w_dim] -> uint8 grid, one row per latent, one column per strength."""
    s, n = ws_edits.shape[:2]
    imgs = _render(G, np.swapaxes(ws_edits, 0, 1).reshape(s * n, *ws_edits.shape[2:]), noise_mode)
    return make_grid(imgs, s)


def pca_extremes(G: Generator, p, sigmas: Sequence[float] = (-3, -1.5, 0, 1.5, 3)) -> np.ndarray:
    """Paper 000 Figs. 4-5: one row per principal component of W (`directions.pca` result `p`),
    images of w_mean + s * sqrt(variance) * pc for each s in `sigmas`. uint8 [k * H, S * W, 3]."""
    comps, std = np.asarray(p.components), np.sqrt(np.asarray(p.explained_variance))
    s = np.asarray(sigmas, np.float32)
    w = np.asarray(p.mean)[None, None] + (s[None, :, None] * std[:, None, None]) * comps[:, None]  # [k, S, D]
    ws = np.asarray(broadcast_ws(jnp.asarray(w.reshape(-1, w.shape[-1])), G.config.num_ws))
    return make_grid(_render(G, ws), len(s))
