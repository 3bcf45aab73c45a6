"""StyleGAN3 (alias-free) synthesis, -T and -R, as NVIDIA's `SynthesisNetwork`
(NVlabs/stylegan3 training/networks_stylegan3.py; Karras et al. 2021).

ws row 0 drives the Fourier-feature input (through its rotation/translation affine); row i + 1
drives layer L{i}; the last layer is ToRGB (1x1 conv, no demodulation, linear). Every layer:
modulated conv (input scaled by 1/sqrt(magnitude_ema)) -> filtered_lrelu with the layer's stored
up/down filters -> clamp. The output is multiplied by `output_scale`. There is no noise.

Styles are normalised over the whole batch (`s * rsqrt(mean(s^2))`, the mean over N and I), as
the official code does: an image depends on the other rows of its batch, at the 1e-6 level
(the factor cancels in demodulation except against the 1e-8 epsilon). Under `run_sharded` the
jitted mean still spans the global batch (XLA all-reduces it across devices); a batch that does
not divide by the device count is padded with copies of its last row, which then enter the mean
(a change far below the 2e-4 parity tolerance, like any change of batch composition).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from latentjax.config import GeneratorConfig
from latentjax.nets.common import const_param, normal_param
from latentjax.ops.conv import dense
from latentjax.ops.filtered_lrelu import filtered_lrelu
from latentjax.ops.fir import _DN, conv3x3_same

SQRT2 = float(np.sqrt(2.0))


def make_transform(translate: tuple[float, float], angle: float) -> np.ndarray:
    """The user transform of NVIDIA's gen_images.py (`make_transform`): rotate by `angle`
    degrees, translate by (x, y) in units of the image half-size. The input layer stores its
    inverse (see `input_transform`). -> [3, 3] float64."""
    a = np.deg2rad(float(angle))
    s, c = np.sin(a), np.cos(a)
    return np.array([[c, s, translate[0]], [-s, c, translate[1]], [0.0, 0.0, 1.0]])


def input_transform(translate: tuple[float, float] = (0.0, 0.0), angle: float = 0.0) -> np.ndarray:
    """The buffer value gen_images.py copies into `synthesis.input.transform`: inv(make_transform)."""
    return np.linalg.inv(make_transform(translate, angle)).astype(np.float32)


def input_transforms(translate: jax.Array, angle: jax.Array) -> jax.Array:
    """`input_transform` as a differentiable batch: translate [N, 2] (image widths), angle [N]
    (radians) -> inv(make_transform) [N, 3, 3] float32, written out: inv([R t; 0 1]) = [R^T -R^T t; 0 1].
    """
    c, s = jnp.cos(angle), jnp.sin(angle)
    tx, ty = translate[:, 0], translate[:, 1]
    zero, one = jnp.zeros_like(c), jnp.ones_like(c)
    rows = [[c, -s, -(c * tx - s * ty)], [s, c, -(s * tx + c * ty)], [zero, zero, one]]
    return jnp.stack([jnp.stack(r, -1) for r in rows], 1).astype(jnp.float32)


def fourier_features(
    p: dict,
    w: jax.Array,
    *,
    size: int,
    sampling_rate: float,
    bandwidth: float,
    transform: jax.Array | None = None,
) -> jax.Array:
    """`SynthesisInput`: w [N, w_dim] -> [N, size, size, C].

    p: weight [C, C] (x @ weight / sqrt(C)), affine_weight [w_dim, 4], affine_bias [4], freqs
    [C, 2], phases [C], transform [3, 3] (stored, the inverse of the user's). `transform`
    overrides the stored one: [3, 3] or per sample [N, 3, 3].
    """
    n, ch = w.shape[0], p["freqs"].shape[0]
    t = dense(w, p["affine_weight"], p["affine_bias"])  # (r_c, r_s, t_x, t_y)
    t = t / jnp.linalg.norm(t[:, :2], axis=1, keepdims=True)
    c, s, tx, ty = t[:, 0], t[:, 1], t[:, 2], t[:, 3]
    zero, one = jnp.zeros_like(c), jnp.ones_like(c)
    m_r = jnp.stack([jnp.stack([c, -s, zero], -1), jnp.stack([s, c, zero], -1), jnp.stack([zero, zero, one], -1)], 1)
    m_t = jnp.stack(
        [jnp.stack([one, zero, -tx], -1), jnp.stack([zero, one, -ty], -1), jnp.stack([zero, zero, one], -1)], 1
    )
    user = p["transform"] if transform is None else transform
    user = jnp.broadcast_to(jnp.asarray(user, jnp.float32), (n, 3, 3))
    m = m_r @ m_t @ user  # rotate the image, then translate, then the user transform
    phases = p["phases"][None] + jnp.einsum("cx,nx->nc", p["freqs"], m[:, :2, 2])
    freqs = jnp.einsum("cx,nxy->ncy", p["freqs"], m[:, :2, :2])
    # damp frequencies the user transform pushed out of band
    amp = jnp.clip(1 - (jnp.linalg.norm(freqs, axis=2) - bandwidth) / (sampling_rate / 2 - bandwidth), 0, 1)
    # affine_grid(align_corners=False): pixel centres (2j + 1) / size - 1, scaled by size / (2 rate)
    g = ((2 * jnp.arange(size, dtype=jnp.float32) + 1) / size - 1) * (0.5 * size / sampling_rate)
    x = g[None, None, :, None] * freqs[:, None, None, :, 0] + g[None, :, None, None] * freqs[:, None, None, :, 1]
    x = jnp.sin((x + phases[:, None, None, :]) * (2 * np.pi)) * amp[:, None, None, :]
    return x @ (p["weight"] / np.sqrt(ch))


def modulated_conv_sg3(
    x: jax.Array, weight: jax.Array, styles: jax.Array, *, demodulate: bool, input_gain: jax.Array
) -> jax.Array:
    """StyleGAN3's `modulated_conv2d` with padding k - 1 ('full' conv: H + k - 1 out).

    x: [N, H, W, I]; weight: [k, k, I, O] raw (no he-gain: demodulation normalises it); styles:
    [N, I]; input_gain: [] (1 / sqrt(magnitude_ema)). Computed as scale-conv-scale, the same math
    as the official per-sample weights.
    """
    if demodulate:
        weight = weight * jax.lax.rsqrt(jnp.mean(jnp.square(weight), axis=(0, 1, 2), keepdims=True))
        styles = styles * jax.lax.rsqrt(jnp.mean(jnp.square(styles)))  # over the whole batch
    k = weight.shape[0]
    xs = x * (styles * input_gain)[:, None, None, :]
    if k == 1:
        y = jnp.einsum("nhwi,io->nhwo", xs, weight[0, 0])
    elif k == 3:  # full conv = 'SAME' conv of the input padded by 1
        y = conv3x3_same(jnp.pad(xs, ((0, 0), (1, 1), (1, 1), (0, 0))), weight)
    else:
        y = jax.lax.conv_general_dilated(xs, weight, (1, 1), ((k - 1, k - 1), (k - 1, k - 1)), dimension_numbers=_DN)
    if demodulate:
        ww = weight[None] * styles[:, None, None, :, None]
        y = y * jax.lax.rsqrt(jnp.sum(jnp.square(ww), axis=(1, 2, 3)) + 1e-8)[:, None, None, :]
    return y


def synthesis_layer(
    p: dict,
    x: jax.Array,
    w: jax.Array,
    *,
    is_torgb: bool,
    up: int,
    down: int,
    padding: tuple[int, int, int, int],
    conv_clamp: float | None,
) -> jax.Array:
    """`SynthesisLayer`: x [N, H, W, I], w [N, w_dim] -> [N, H', W', O].

    p: weight [k, k, I, O], bias [O], affine_weight [w_dim, I], affine_bias [I], magnitude_ema
    [], up_filter / down_filter (absent = identity; 1-D separable, 2-D radial).
    """
    styles = dense(w, p["affine_weight"], p["affine_bias"])
    if is_torgb:
        k = p["weight"].shape[0]
        styles = styles * (1 / np.sqrt(p["weight"].shape[2] * k * k))
    x = modulated_conv_sg3(
        x, p["weight"], styles, demodulate=not is_torgb, input_gain=jax.lax.rsqrt(p["magnitude_ema"])
    )
    return filtered_lrelu(
        x,
        p.get("up_filter"),
        p.get("down_filter"),
        p["bias"],
        up=up,
        down=down,
        padding=padding,
        gain=1.0 if is_torgb else SQRT2,
        slope=1.0 if is_torgb else 0.2,
        clamp=conv_clamp,
    )


def _buffer(module: nn.Module, name: str, init) -> jax.Array:
    return module.variable("buffers", name, init).value


class SynthesisInput(nn.Module):
    cfg: GeneratorConfig

    @nn.compact
    def __call__(self, w: jax.Array, transform: jax.Array | None = None) -> jax.Array:
        cfg, ch = self.cfg, self.cfg.channels[0]

        def draw_freqs():  # as NVIDIA's __init__: uniform-ish in the disc of radius bandwidth
            f = jax.random.normal(self.make_rng("params"), (ch, 2))
            r = jnp.linalg.norm(f, axis=1, keepdims=True)
            return f / (r * jnp.exp(jnp.square(r)) ** 0.25) * cfg.sg3_bandwidth

        p = {
            "weight": normal_param(self, "weight", (ch, ch)),
            "affine_weight": const_param(self, "affine_weight", (cfg.w_dim, 4)),  # official weight_init=0
            "affine_bias": self.param("affine_bias", lambda _k: jnp.array([1.0, 0.0, 0.0, 0.0], jnp.float32)),
            "freqs": _buffer(self, "freqs", draw_freqs),
            "phases": _buffer(self, "phases", lambda: jax.random.uniform(self.make_rng("params"), (ch,)) - 0.5),
            "transform": _buffer(self, "transform", lambda: jnp.eye(3, dtype=jnp.float32)),
        }
        size = cfg.sg3_sizes[0]
        return fourier_features(
            p, w, size=size, sampling_rate=cfg.sg3_sampling_rate, bandwidth=cfg.sg3_bandwidth, transform=transform
        )


class SynthesisLayer(nn.Module):
    cfg: GeneratorConfig
    idx: int

    @nn.compact
    def __call__(self, x: jax.Array, w: jax.Array) -> jax.Array:
        cfg, i = self.cfg, self.idx
        cin, cout = cfg.channels[max(i - 1, 0)], cfg.channels[i]
        k = cfg.sg3_kernels[i]
        p = {
            "weight": normal_param(self, "weight", (k, k, cin, cout)),
            "bias": const_param(self, "bias", (cout,)),
            "affine_weight": normal_param(self, "affine_weight", (cfg.w_dim, cin)),
            "affine_bias": const_param(self, "affine_bias", (cin,), 1.0),
            "magnitude_ema": _buffer(self, "magnitude_ema", lambda: jnp.ones((), jnp.float32)),
        }
        # Fresh (untrained) configs get box filters; loaded models carry their stored filters.
        if cfg.sg3_up_taps[i]:
            t = cfg.sg3_up_taps[i]
            p["up_filter"] = _buffer(self, "up_filter", lambda: jnp.full((t,), 1.0 / t, jnp.float32))
        if cfg.sg3_down_taps[i]:
            t = cfg.sg3_down_taps[i]
            shape = (t, t) if cfg.sg3_down_radial[i] else (t,)
            p["down_filter"] = _buffer(self, "down_filter", lambda: jnp.full(shape, 1.0 / t ** len(shape), jnp.float32))
        return synthesis_layer(
            p,
            x,
            w,
            is_torgb=i == len(cfg.channels) - 1,
            up=cfg.sg3_up[i],
            down=cfg.sg3_down[i],
            padding=cfg.sg3_padding[i],
            conv_clamp=cfg.conv_clamp,
        )


class StyleGAN3Synthesis(nn.Module):
    """ws: [N, num_ws, w_dim] (noise: must be empty) -> images [N, R, R, C], times output_scale.

    `transform` ([3, 3] or [N, 3, 3], the inverse of the user transform as stored) overrides the
    input's stored transform buffer.
    """

    cfg: GeneratorConfig

    @nn.compact
    def __call__(self, ws: jax.Array, noise: list, transform: jax.Array | None = None) -> jax.Array:
        cfg = self.cfg
        if noise:
            raise ValueError(f"StyleGAN3 has no noise inputs, got {len(noise)}")
        x = SynthesisInput(cfg, name="input")(ws[:, 0], transform)
        for i, name in enumerate(cfg.sg3_layer_names):
            x = SynthesisLayer(cfg, i, name=name)(x, ws[:, i + 1])
        return x * cfg.sg3_output_scale if cfg.sg3_output_scale != 1 else x
