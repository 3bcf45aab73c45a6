"""`Generator`: the user-facing handle (config + variables) with jit-compiled, batch-sharded
mapping and synthesis. The math underneath is pure: `mapping_fn` / `synthesis_fn` take the
variables pytree and arrays, so jax.grad, jax.vmap and sharding compose with them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import validate
from latentjax.config import GeneratorConfig
from latentjax.nets.network import GeneratorNet
from latentjax.sharding import replicate, run_sharded

# Noise modes of synthesis, the one decoder for all callers (generate, sampling, PPL, figures):
# "const" the maps stored with the model (official noise_mode='const'), "random" fresh N(0, 1) maps
# (official randomize_noise), "none" zeros.
NOISE_MODES = ("const", "random", "none")


def check_noise_mode(noise_mode: str) -> str:
    """`noise_mode` if it is one of NOISE_MODES, else a ValueError naming them."""
    if noise_mode not in NOISE_MODES:
        raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
    return noise_mode


def noise_inputs(noise_resolutions: Sequence[int], noise_mode: str, random_maps) -> list:
    """Per-layer noise for `synthesis_fn` in a mode: "random" -> random_maps() (a list of [N|1, H, W]
    maps, drawn only in this mode), "none" -> zeros [1, H, W], "const" -> None (the stored map)."""
    if check_noise_mode(noise_mode) == "random":
        return list(random_maps())
    if noise_mode == "none":
        return [jnp.zeros((1, r, r), jnp.float32) for r in noise_resolutions]
    return [None] * len(noise_resolutions)


@functools.partial(jax.jit, static_argnames=("cfg",))
def mapping_fn(variables: dict, z: jax.Array, psi, cutoff, *, cfg: GeneratorConfig) -> jax.Array:
    """Pure mapping: z: [N, z_dim] -> ws: [N, num_ws, w_dim] (psi, cutoff traced: no recompiles)."""
    return GeneratorNet(cfg).apply(variables, z, psi, cutoff, method=GeneratorNet.mapping)


@functools.partial(jax.jit, static_argnames=("cfg",))
def synthesis_fn(
    variables: dict, ws: jax.Array, noise: list, transform: jax.Array | None = None, *, cfg: GeneratorConfig
) -> jax.Array:
    """Pure synthesis: ws: [N, num_ws, w_dim], noise: per-layer [N|1, H, W] or None (stored map).
    transform (StyleGAN3 only): [3, 3] or per image [N, 3, 3], replaces the stored input transform."""
    return GeneratorNet(cfg).apply(variables, ws, noise, transform, method=GeneratorNet.synthesis)


def random_noise(cfg: GeneratorConfig, key: jax.Array, n: int) -> list[jax.Array]:
    """Unit-variance noise maps [n, H, W] for every noise layer (official randomize_noise)."""
    keys = jax.random.split(key, len(cfg.noise_resolutions))
    return [jax.random.normal(k, (n, r, r), jnp.float32) for k, r in zip(keys, cfg.noise_resolutions)]


def _as_noise_map(a, res: int, i: int) -> jax.Array:
    """Accept [H,W], [N|1,H,W], NCHW [N,1,H,W] or NHWC [N,H,W,1]; return [N|1, H, W] float32."""
    a = jnp.asarray(validate.real_array(a, f"noise[{i}]"))
    if a.ndim == 4 and a.shape[1] == 1 and a.shape[2:] == (res, res):
        a = a[:, 0]
    elif a.ndim == 4 and a.shape[3] == 1 and a.shape[1:3] == (res, res):
        a = a[..., 0]
    elif a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[1:] != (res, res):
        raise validate.InputError(
            f"noise[{i}]: expected [N, {res}, {res}] (layer {i} is {res}x{res}), got {list(a.shape)}"
        )
    return a


class Generator:
    """A loaded StyleGAN / StyleGAN2 generator.

    >>> from latentjax.nets.network import init_variables
    >>> cfg = GeneratorConfig("stylegan2", 8, z_dim=4, w_dim=4, channels=(4, 4), mapping_fmaps=4)
    >>> G = Generator(cfg, init_variables(cfg, jax.random.key(0)))
    >>> G(np.zeros((3, 4), np.float32), noise_mode="none").shape
    (3, 8, 8, 3)
    """

    def __init__(self, config: GeneratorConfig, variables: dict):
        self.config = config
        self.variables = replicate(jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), variables))
        self._random_calls = 0

    @property
    def noise_shapes(self) -> list[tuple[int, int]]:
        """(H, W) of every noise input, in the official layer order."""
        return [(r, r) for r in self.config.noise_resolutions]

    @property
    def w_avg(self) -> jax.Array:
        return self.variables["buffers"]["mapping_network"]["w_avg"]

    @property
    def num_params(self) -> int:
        return int(sum(np.size(a) for a in jax.tree_util.tree_leaves(self.variables["params"])))

    def with_transform(self, translate: tuple[float, float] = (0.0, 0.0), rotate: float = 0.0) -> Generator:
        """A StyleGAN3 generator whose input transform is NVIDIA gen_images.py's --translate X,Y
        --rotate DEG (the stored buffer becomes inv(make_transform)). Same config: no recompile."""
        if self.config.arch != "stylegan3":
            raise ValueError(
                f"--translate/--rotate set StyleGAN3's input transform; this model is {self.config.arch}, "
                "which has no Fourier-feature input"
            )
        from latentjax.nets.stylegan3 import input_transform

        t = tuple(float(v) for v in translate)
        if len(t) != 2 or not np.all(np.isfinite(t)) or not np.isfinite(rotate):
            raise ValueError(f"translate must be two finite numbers and rotate finite, got {translate!r}, {rotate!r}")
        variables = jax.tree_util.tree_map(lambda a: a, self.variables)  # new dicts, same leaves
        variables["buffers"]["synthesis_network"]["input"]["transform"] = jnp.asarray(input_transform(t, rotate))
        return Generator(self.config, variables)

    def mapping(self, z, truncation_psi: float = 1.0, truncation_cutoff: int | None = None) -> jax.Array:
        """z: [N, z_dim] -> ws: [N, num_ws, w_dim]. cutoff None truncates every layer."""
        z = self._check(z, (self.config.z_dim,), "z")
        psi = validate.scalar(truncation_psi, "truncation_psi")
        cutoff = (
            self.config.num_ws
            if truncation_cutoff is None
            else validate.integer(truncation_cutoff, "truncation_cutoff", lo=0, hi=self.config.num_ws)
        )
        fn = functools.partial(mapping_fn, cfg=self.config)
        return run_sharded(lambda v, zz: fn(v, zz, jnp.float32(psi), cutoff), self.variables, z)

    def synthesis(
        self, ws, noise_mode: str = "const", noise: Sequence | None = None, key: jax.Array | None = None
    ) -> jax.Array:
        """ws: [N, num_ws, w_dim] -> raw images [N, H, W, C] (not clipped; ~[-1, 1] when trained).

        noise_mode: 'const' (the maps stored with the model), 'random' (fresh N(0,1) maps from
        `key`; without a key a per-call counter key is used), 'none' (zeros). `noise`, if given,
        overrides per layer: a list (official order, see `noise_shapes`) of [N|1, H, W] arrays or
        None (use `noise_mode` for that layer).
        """
        ws = self._check(ws, (self.config.num_ws, self.config.w_dim), "ws")
        return self._synthesize(ws, noise_mode, noise, key)

    def _synthesize(self, ws: jax.Array, noise_mode: str, noise: Sequence | None, key) -> jax.Array:
        """`synthesis` for ws already validated (G(z) skips re-checking its own mapping output)."""
        cfg = self.config
        n = ws.shape[0]
        num = len(cfg.noise_resolutions)
        check_noise_mode(noise_mode)
        if noise_mode == "random" and key is None:
            key = jax.random.fold_in(jax.random.key(0x5EED), self._random_calls)
            self._random_calls += 1
        base = noise_inputs(cfg.noise_resolutions, noise_mode, lambda: random_noise(cfg, key, n))
        if noise is not None:
            if len(noise) != num:
                raise validate.InputError(f"noise: expected a list of {num} layers (noise_shapes), got {len(noise)}")
            base = [
                b if a is None else _as_noise_map(a, r, i)
                for i, (a, b, r) in enumerate(zip(noise, base, cfg.noise_resolutions))
            ]
        fn = functools.partial(synthesis_fn, cfg=cfg)
        return run_sharded(fn, self.variables, ws, extra=base)

    def __call__(
        self,
        z,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "const",
        noise: Sequence | None = None,
        key=None,
    ) -> jax.Array:
        """z: [N, z_dim] -> images [N, H, W, C]: mapping then synthesis."""
        ws = self.mapping(z, truncation_psi, truncation_cutoff)
        return self._synthesize(ws, noise_mode, noise, key)

    def _check(self, a, tail: tuple[int, ...], name: str) -> jax.Array:
        """The API edge: real, finite float32 [N, *tail] (complex, NaN, a wrong shape refused)."""
        return jnp.asarray(validate.real_array(a, name, ("N", *tail), min_rows=1))

    def __repr__(self) -> str:
        c = self.config
        return (
            f"Generator({c.arch}, {c.resolution}x{c.resolution}, z={c.z_dim}, w={c.w_dim}, "
            f"num_ws={c.num_ws}, params={self.num_params:,})"
        )
