"""Sampling: the rows of a latent dataset, each a pure function of (model, classifier, seed, psi,
noise_mode, row id), computed in padded batches (one compile) and in memory (`sample_arrays`)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.classifier import Classifier
from latentjax.generator import Generator, check_noise_mode, random_noise
from latentjax.media import to_uint8
from latentjax.ops.resample import resize_images
from latentjax.sharding import iter_padded

_NOISE_TAG = 0x6E6F6973  # fold_in tag: a row's noise key, distinct from its z key


@dataclass(frozen=True)
class SampleConfig:
    """What to sample. Only `batch` may change between a run and its resumption.

    n: rows (global ids 0..n-1); batch: rows per device call (lower it for large images);
    shard_size: rows per shard file (the most rows ever held in memory); seed, psi: z stream and
    truncation (all layers); save_ws: also store W+ (num_ws x larger than w); thumbnails: side of
    stored uint8 thumbnails (0 = none); noise_mode: synthesis noise for thumbnails / probs
    ('random' noise is drawn per row, so it too is independent of batching).
    """

    n: int
    batch: int = 256
    shard_size: int = 10_000
    seed: int = 0
    psi: float = 1.0
    save_ws: bool = False
    thumbnails: int = 0
    noise_mode: str = "const"

    def __post_init__(self):
        for name, lo, hi in (
            ("n", 1, 2**32),  # row ids are folded in as uint32
            ("batch", 1, None),
            ("shard_size", 1, None),
            ("seed", 0, 2**32 - 1),  # jax.random.key wraps larger seeds silently
            ("thumbnails", 0, None),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo or (hi is not None and v > hi):
                rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
                raise ValueError(f"{name} must be an int {rng}, got {v!r}")
            object.__setattr__(self, name, int(v))
        if not math.isfinite(float(self.psi)):
            raise ValueError(f"psi must be finite, got {self.psi!r}")
        object.__setattr__(self, "psi", float(self.psi))
        object.__setattr__(self, "save_ws", bool(self.save_ws))
        check_noise_mode(self.noise_mode)

    @property
    def num_shards(self) -> int:
        return -(-self.n // self.shard_size)

    def shard_rows(self, k: int) -> tuple[int, int]:
        """Global row range [start, stop) of shard k."""
        start = k * self.shard_size
        return start, min(start + self.shard_size, self.n)


def _check_seed(seed: int) -> int:
    if not 0 <= int(seed) < 2**32:  # jax.random.key would wrap it onto another seed
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    return int(seed)


def _row_ids(ids) -> jax.Array:
    """[B] row ids -> uint32 (fold_in data), refusing ids that would wrap."""
    a = np.asarray(ids)
    if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and (a.min() < 0 or a.max() >= 2**32)):
        raise ValueError(f"row ids must be a 1-d integer array in [0, 2**32), got {a.dtype} {a.shape}")
    return jnp.asarray(a, jnp.uint32)


@functools.partial(jax.jit, static_argnames=("z_dim",))
def _row_z(root: jax.Array, ids: jax.Array, *, z_dim: int) -> jax.Array:
    return jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(root, i), (z_dim,), jnp.float32))(ids)


def row_latents(seed: int, ids, z_dim: int) -> jax.Array:
    """ids: [B] global row ids -> z: [B, z_dim] float32; row i is N(0, I) from fold_in(key(seed), i),
    so it depends on (seed, i) alone (vmapped threefry is elementwise: bit-identical for any B)."""
    return _row_z(jax.random.key(_check_seed(seed)), _row_ids(ids), z_dim=z_dim)


@functools.partial(jax.jit, static_argnames=("cfg",))
def _row_noise(root: jax.Array, ids: jax.Array, *, cfg) -> list[jax.Array]:
    def one(i):
        return [m[0] for m in random_noise(cfg, jax.random.fold_in(jax.random.fold_in(root, i), _NOISE_TAG), 1)]

    return jax.vmap(one)(ids)


def row_noise(G: Generator, seed: int, ids) -> list[jax.Array]:
    """Per-row noise maps for noise_mode 'random': one [B, H, W] per noise layer, row i from (seed, i)."""
    return _row_noise(jax.random.key(_check_seed(seed)), _row_ids(ids), cfg=G.config)


def sample_rows(G: Generator, ids: np.ndarray, cfg: SampleConfig, classifier: Classifier | None = None) -> dict:
    """Rows `ids` ([B] global ids) of the dataset `cfg` describes -> {field: numpy [B, ...]}.

    Images are synthesised only if thumbnails or probs are wanted; the classifier sees raw images
    (resized to its resolution when that differs from the generator's).
    """
    ids = np.asarray(ids, np.int64)
    z = row_latents(cfg.seed, ids, G.config.z_dim)
    ws = G.mapping(z, cfg.psi)
    out = {"index": ids, "z": np.asarray(z), "w": np.asarray(ws[:, 0])}
    if cfg.save_ws:
        out["ws"] = np.asarray(ws)
    if cfg.thumbnails or classifier is not None:
        if cfg.noise_mode == "random":  # every layer overridden: the base mode is irrelevant
            images = G.synthesis(ws, noise_mode="const", noise=row_noise(G, cfg.seed, ids))
        else:
            images = G.synthesis(ws, noise_mode=cfg.noise_mode)
        if cfg.thumbnails:
            out["thumbs"] = to_uint8(resize_images(images, cfg.thumbnails))
        if classifier is not None:
            x = resize_images(images, classifier.config.resolution)
            out["probs"] = np.asarray(classifier.probabilities(x, batch=len(ids)), np.float32)
    return out


def field_specs(G: Generator, cfg: SampleConfig, classifier: Classifier | None = None) -> dict:
    """{field: {"shape": per-row shape, "dtype": str}} of every array a shard holds."""
    c = G.config
    specs = {"index": ([], "int64"), "z": ([c.z_dim], "float32"), "w": ([c.w_dim], "float32")}
    if cfg.save_ws:
        specs["ws"] = ([c.num_ws, c.w_dim], "float32")
    if cfg.thumbnails:
        specs["thumbs"] = ([cfg.thumbnails, cfg.thumbnails, c.img_channels], "uint8")
    if classifier is not None:
        specs["probs"] = ([len(classifier.attributes)], "float32")
    return {k: {"shape": s, "dtype": d} for k, (s, d) in specs.items()}


def sample_range(G, cfg: SampleConfig, classifier, start: int, stop: int, batch: int, update) -> dict:
    """Rows [start, stop) as {field: numpy array}; every device call padded to `batch` rows (one compile)."""
    out = None
    for lo, (n, padded) in zip(range(start, stop, batch), iter_padded(np.arange(start, stop, dtype=np.int64), batch)):
        rows = sample_rows(G, padded, cfg, classifier)
        if out is None:
            out = {f: np.empty((stop - start, *a.shape[1:]), a.dtype) for f, a in rows.items()}
        for f, a in rows.items():
            out[f][lo - start : lo - start + n] = a[:n]
        update(n)
    return out


def sample_arrays(
    G: Generator, cfg: SampleConfig, classifier: Classifier | None = None, progress=False
) -> dict[str, np.ndarray]:
    """The dataset `cfg` describes, in memory: {field: [n, ...]}, the same rows `sample_dataset` writes
    (row i depends only on seed and i). For metric runs that do not need files; `cfg.shard_size` unused.
    With several processes (`latentjax.distributed`) the batches are split between them and every
    process returns all n rows. progress: `latentjax.progress` (callback, True for a bar, False)."""
    from latentjax.distributed import allgather_arrays
    from latentjax.progress import Reporter
    from latentjax.sharding import process_block

    if classifier is not None and G.config.img_channels != 3:
        raise ValueError(f"the classifier needs RGB images; this generator makes {G.config.img_channels} channels")
    batch = min(cfg.batch, cfg.n)
    # Several processes: each takes a block of whole batches, so every row is computed in the same
    # padded batch as by one process (bit-identical), then all rows are gathered on every process.
    b0, b1 = process_block(-(-cfg.n // batch))
    start, stop = b0 * batch, min(b1 * batch, cfg.n)
    shown = progress if start < stop and jax.process_index() == 0 else None
    with Reporter(shown, stop - start, "sample", "row") as bar:
        if start < stop:
            rows = sample_range(G, cfg, classifier, start, stop, batch, bar.update)
        else:
            specs = field_specs(G, cfg, classifier)
            rows = {k: np.empty((0, *v["shape"]), v["dtype"]) for k, v in specs.items()}
    return allgather_arrays(rows, "gathering sampled rows")
