"""Perceptual path length (PPL, paper 003 Sec. 4.1): how much the image changes, perceptually, per
small step along an interpolation path in latent space.

Per sample (NVIDIA's `metrics/perceptual_path_length.py`, StyleGAN v1 TF and stylegan2-ada-pytorch):

    z0, z1 ~ N(0, I);  t ~ U(0, 1) ("full") or t = 0 ("end")
    space "z": ws_a, ws_b = mapping(slerp(z0, z1, t)), mapping(slerp(z0, z1, t + eps))    # unit slerp
    space "w": w0, w1 = mapping(z0), mapping(z1) (all W+ rows);  ws_a, ws_b = lerp(w0, w1, t), lerp(..., t + eps)
    d = LPIPS(g(ws_a), g(ws_b)) / eps^2           g: synthesis, optional face crop, area-downsample to <= 256
    PPL = mean of the d inside [1st percentile ("lower"), 99th percentile ("higher")]

Choices, each against NVIDIA's code:
  - "end" sampling is t = 0 exactly, as NVIDIA's code (`uniform(0, 0)`, `rand() * 0`). The paper writes
    t in {0, 1}; the distributions are the same: at t = 1 the step goes from z1 (w1) back towards z0 (w0),
    and since (z0, z1) and (z1, z0) are equally likely and the distance is symmetric, evaluating at
    t = 1 - eps on the swapped pair is the t = 0 case again (up to which endpoint the eps step starts at).
  - Noise: both images of a pair always share their noise maps (NVIDIA: randomize_noise=False / the
    noise_const buffers), so only the latent step is measured. noise_mode="random" (default) draws
    fresh N(0, 1) maps for every pair; NVIDIA re-randomises its maps once per minibatch (TF: the noise
    variables' initialisers; ADA: `noise_const.copy_(randn_like)`), shared by the whole minibatch. The
    expectation is the same (every pair sees N(0, 1) noise independent of its latents); per pair makes
    the result independent of the batch size. "const" uses the generator's stored maps (one fixed noise
    realisation, NVIDIA's maps before re-randomising), "none" zeros.
  - Face crop (NVIDIA v1 always, ADA `crop=True`): rows [3c, 7c), cols [2c, 6c), c = H // 8. Then
    area-downsampling to 256 when the (cropped) image is larger, as the TF code (the ADA port bases the
    factor on the uncropped resolution, so at 1024^2 with crop it compares 128^2 images, TF 256^2).
  - Distance: `latentjax.perceptual.lpips` (LPIPS-VGG v0.1) on [-1, 1] images; NVIDIA feeds [0, 255] to
    its VGG16 LPIPS network, which rescales internally: the same distance, not bit-identical.
  - Randomness: sample i uses `fold_in(key(seed), i)` for its z pair, t and noise, so the distances do
    not depend on the batch size (up to batched-convolution rounding).

`ppl_distances` is the one jit-compiled step (fixed batch shape: compiled once; the last partial batch is
padded with extra samples and dropped). `path_distances` is its pure core with the mapping, renderer and
distance passed in, so toy generators and distances plug in for testing.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.config import GeneratorConfig
from latentjax.distributed import allgather_arrays
from latentjax.generator import Generator, check_noise_mode, mapping_fn, noise_inputs, synthesis_fn
from latentjax.latent import lerp, slerp
from latentjax.latent_types import SAMPLED, Z, check_space
from latentjax.ops.resample import area_downsample
from latentjax.perceptual import load_lpips_params, lpips
from latentjax.progress import Progress, Reporter
from latentjax.sharding import process_block, replicate, run_sharded

SAMPLINGS = ("full", "end")
LPIPS_MIN_SIZE = 16  # VGG16 relu5_3 sits behind 4 max-pools
DISTANCE_RESOLUTION = 256  # NVIDIA: "VGG was built for 224x224 images"


# ---- the pure core ----------------------------------------------------------------------------------


def interpolate_pairs(
    z_pairs: jax.Array, t: jax.Array, epsilon, *, space: str, mapping: Callable[[jax.Array], jax.Array]
) -> jax.Array:
    """The two ends of every eps-step: z_pairs: [B, 2, z_dim], t: [B] -> ws [2B, ...] (rows :B at t, B: at t + eps).

    mapping: z [N, z_dim] -> ws [N, ...] (the generator's: [N, num_ws, w_dim]).
    space "z": NVIDIA's slerp (inputs normalised, unit output, no rescaling), then mapping;
    space "w": mapping of both endpoints (every W+ row), then lerp.
    """
    check_space(space, SAMPLED)
    z0, z1 = z_pairs[:, 0], z_pairs[:, 1]
    t = jnp.asarray(t, z_pairs.dtype)
    t_eps = t + jnp.asarray(epsilon, z_pairs.dtype)
    if space == Z:
        return mapping(jnp.concatenate([slerp(z0, z1, t), slerp(z0, z1, t_eps)]))
    w0, w1 = jnp.split(mapping(jnp.concatenate([z0, z1])), 2)  # one mapping call for both ends
    return jnp.concatenate([lerp(w0, w1, t), lerp(w0, w1, t_eps)])


def path_distances(
    z_pairs: jax.Array,
    t: jax.Array,
    epsilon,
    *,
    space: str,
    mapping: Callable[[jax.Array], jax.Array],
    render: Callable[[jax.Array], jax.Array],
    distance: Callable[[jax.Array, jax.Array], jax.Array],
) -> jax.Array:
    """Pure PPL core: z_pairs: [B, 2, z_dim], t: [B] -> distance(x_t, x_{t+eps}) / eps^2: [B] float32.

    render: ws [2B, ...] -> images [2B, ...] (rows i and B + i form pair i: any per-pair noise must be
    shared by both); distance: (x [B, ...], y [B, ...]) -> [B]. Jit-able when the callables are.
    """
    ws = interpolate_pairs(z_pairs, t, epsilon, space=space, mapping=mapping)
    x, y = jnp.split(render(ws), 2)
    eps = jnp.asarray(epsilon, jnp.float32)
    return distance(x, y).astype(jnp.float32) / jnp.square(eps)


def crop_face(images: jax.Array) -> jax.Array:
    """NVIDIA's face crop: images [N, H, W, C] -> [N, 4c, 4c, C], rows [3c, 7c), cols [2c, 6c), c = H // 8."""
    c = images.shape[1] // 8
    return images[:, 3 * c : 7 * c, 2 * c : 6 * c, :]


def prepare_images(images: jax.Array, crop: bool) -> jax.Array:
    """What the distance sees: optional face crop, area-downsampling to <= 256^2, grayscale repeated to RGB."""
    if crop:
        images = crop_face(images)
    images = area_downsample(images, DISTANCE_RESOLUTION)
    return jnp.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def _pair_noise(noise: list, batch: int) -> list:
    """Per-pair maps [B, H, W] -> [2B, H, W] (pair i's both images get map i); None / [1, H, W] pass through."""
    return [n if n is None or n.shape[0] != batch else jnp.concatenate([n, n]) for n in noise]


@functools.partial(jax.jit, static_argnames=("cfg", "space", "crop"))
def ppl_distances(
    variables: dict,
    lpips_params: dict,
    z_pairs: jax.Array,
    t: jax.Array,
    noise: list,
    *,
    cfg: GeneratorConfig,
    space: str,
    epsilon,
    crop: bool,
    psi,
) -> jax.Array:
    """One PPL batch, jit-compiled: z_pairs: [B, 2, z_dim], t: [B] -> LPIPS / eps^2: [B] float32.

    noise: per noise layer (official order) [B, H, W] (pair i's maps, shared by its two images),
    [1, H, W] (shared by all), or None (the generator's stored map). cfg, space, crop are static;
    epsilon, psi are float32 scalars, traced (changing them does not recompile); psi truncates every W+ row.
    """
    batch = z_pairs.shape[0]
    psi = jnp.asarray(psi, jnp.float32)
    noise2 = _pair_noise(list(noise), batch)
    return path_distances(
        z_pairs,
        t,
        epsilon,
        space=space,
        mapping=lambda z: mapping_fn(variables, z, psi, cfg.num_ws, cfg=cfg),
        render=lambda ws: prepare_images(synthesis_fn(variables, ws, noise2, cfg=cfg), crop),
        distance=lambda x, y: lpips(lpips_params, x, y),
    )


@functools.partial(jax.jit, static_argnames=("batch", "z_dim", "sampling", "noise_mode", "noise_res"))
def draw_batch(
    key: jax.Array, start: jax.Array, *, batch: int, z_dim: int, sampling: str, noise_mode: str, noise_res: tuple
) -> tuple[jax.Array, jax.Array, list]:
    """Samples start .. start + batch - 1: (z_pairs [B, 2, z_dim], t [B], noise per layer) float32.

    Sample i draws from fold_in(key, i) alone, so a sample does not depend on the batch it falls in.
    noise: "random": [B, r, r] per layer; "none": zeros [1, r, r]; "const": None (stored maps).
    """

    def one(i):
        k = jax.random.fold_in(key, i)
        z = jax.random.normal(jax.random.fold_in(k, 0), (2, z_dim), jnp.float32)
        if sampling == "full":
            t = jax.random.uniform(jax.random.fold_in(k, 1), (), jnp.float32)
        else:
            t = jnp.zeros((), jnp.float32)  # NVIDIA: t = 0 (see the module docstring for the paper's {0, 1})
        maps = [jax.random.normal(jax.random.fold_in(k, 2 + j), (r, r), jnp.float32) for j, r in enumerate(noise_res)]
        return z, t, maps

    z, t, maps = jax.vmap(one)(start + jnp.arange(batch, dtype=jnp.uint32))
    return z, t, noise_inputs(noise_res, noise_mode, lambda: maps)


# ---- statistics ---------------------------------------------------------------------------------------


def reject_outliers(distances) -> np.ndarray:
    """Mask [N] of the distances NVIDIA keeps: lo <= d <= hi, lo = 1st percentile ('lower'), hi = 99th ('higher')."""
    d = np.asarray(distances, np.float64)
    lo = np.percentile(d, 1, method="lower")
    hi = np.percentile(d, 99, method="higher")
    return (d >= lo) & (d <= hi)


@dataclass(frozen=True)
class PPLResult:
    """A PPL measurement. mean is the metric (NVIDIA's value); std is over the same kept distances."""

    mean: float  # mean of the distances inside the 1st..99th percentile
    std: float  # standard deviation of those kept distances
    distances: np.ndarray  # [num_samples] float32, raw (before outlier rejection), LPIPS / eps^2
    num_samples: int
    num_kept: int
    space: str
    sampling: str
    epsilon: float
    crop: bool
    noise_mode: str
    truncation_psi: float


# ---- the driver ----------------------------------------------------------------------------------------


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_count(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _check_args(num_samples, space, sampling, epsilon, batch, noise_mode, truncation_psi) -> None:
    check_space(space, SAMPLED)
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    check_noise_mode(noise_mode)
    if not (_is_real(epsilon) and math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon must be a finite number > 0, got {epsilon!r}")
    if not (_is_count(num_samples) and num_samples >= 1):
        raise ValueError(f"num_samples must be an integer >= 1, got {num_samples!r}")
    if not (_is_count(batch) and batch >= 1):
        raise ValueError(f"batch must be an integer >= 1, got {batch!r}")
    if not (_is_real(truncation_psi) and math.isfinite(truncation_psi)):
        raise ValueError(f"truncation_psi must be a finite number, got {truncation_psi!r}")


def distance_size(resolution: int, crop: bool) -> int:
    """Side of the images LPIPS compares: (cropped 4 * (R // 8)) area-downsampled to <= 256."""
    side = 4 * (resolution // 8) if crop else resolution
    return side if side <= DISTANCE_RESOLUTION else DISTANCE_RESOLUTION


def perceptual_path_length(
    G: Generator,
    num_samples: int = 50_000,
    space: str = "w",
    sampling: str = "end",
    epsilon: float = 1e-4,
    crop: bool = False,
    batch: int = 16,
    seed: int = 0,
    truncation_psi: float = 1.0,
    noise_mode: str = "random",
    progress: Progress = False,
    lpips_params: dict | None = None,
) -> PPLResult:
    """PPL of G (paper 003; defaults: StyleGAN2 / ADA's headline "ppl_wend", 50k samples, no crop).

    v1's paper numbers are 100k samples, crop=True, in z/w x full/end. The batch is split over local
    devices (`latentjax.sharding`); every batch has `batch` samples (one compile). Deterministic for a
    seed. Several processes (`latentjax.distributed`) split the batches and all get every distance.
    progress: `latentjax.progress` (a callback, True for a bar, False). Raises ValueError on bad
    arguments, FloatingPointError if a distance is not finite.
    """
    _check_args(num_samples, space, sampling, epsilon, batch, noise_mode, truncation_psi)
    cfg = G.config
    if cfg.img_channels not in (1, 3):
        raise ValueError(f"LPIPS needs 1- or 3-channel images, this generator has {cfg.img_channels}")
    side = distance_size(cfg.resolution, crop)
    if side < LPIPS_MIN_SIZE:
        raise ValueError(
            f"LPIPS needs images of at least {LPIPS_MIN_SIZE}x{LPIPS_MIN_SIZE}; a {cfg.resolution}x{cfg.resolution} "
            f"generator {'with the face crop ' if crop else ''}gives {side}x{side}"
            + (" (crop=True needs resolution >= 32)" if crop else "")
        )
    lp = replicate(load_lpips_params() if lpips_params is None else lpips_params)
    key = jax.random.key(seed)
    eps32, psi32 = jnp.float32(epsilon), jnp.float32(truncation_psi)
    draw = functools.partial(
        draw_batch,
        batch=int(batch),
        z_dim=cfg.z_dim,
        sampling=sampling,
        noise_mode=noise_mode,
        noise_res=tuple(cfg.noise_resolutions),
    )

    def step(variables, z_pairs, extra):
        return ppl_distances(
            variables, lp, z_pairs, extra[0], extra[1:], cfg=cfg, space=space, epsilon=eps32, crop=crop, psi=psi32
        )

    # A batch depends only on its start: several processes each take a block of whole batches
    # (`latentjax.sharding.process_block`) and the distances are gathered in order.
    starts = list(range(0, num_samples, batch))
    b0, b1 = process_block(len(starts))
    total = min(b1 * batch, num_samples) - b0 * batch
    chunks = [np.zeros((0,), np.float32)]
    with Reporter(progress if jax.process_index() == 0 else None, total, f"ppl {space}/{sampling}", "sample") as rep:
        for start in starts[b0:b1]:
            z_pairs, t, noise = draw(key, jnp.uint32(start))
            d = run_sharded(step, G.variables, z_pairs, extra=[t, *noise])
            chunks.append(np.asarray(d)[: min(batch, num_samples - start)])  # a partial last batch: drop the padding
            rep.update(len(chunks[-1]))
    local = np.concatenate(chunks).astype(np.float32)
    distances = allgather_arrays({"d": local}, "gathering PPL distances")["d"]
    bad = np.flatnonzero(~np.isfinite(distances))
    if bad.size:
        raise FloatingPointError(f"{bad.size} of {num_samples} distances are not finite (first at sample {bad[0]})")
    keep = reject_outliers(distances)
    kept = distances[keep].astype(np.float64)
    return PPLResult(
        mean=float(kept.mean()),
        std=float(kept.std()),
        distances=distances,
        num_samples=int(num_samples),
        num_kept=int(keep.sum()),
        space=space,
        sampling=sampling,
        epsilon=float(epsilon),
        crop=bool(crop),
        noise_mode=noise_mode,
        truncation_psi=float(truncation_psi),
    )
