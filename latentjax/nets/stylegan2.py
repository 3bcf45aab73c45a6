"""StyleGAN2 config-f "skip" synthesis network, as NVIDIA's `G_synthesis_stylegan2`
(networks_stylegan2.py) and its PyTorch port `SynthesisNetwork` (stylegan2-ada-pytorch).

Noise/ws order: b4.conv1 (ws 0), b4.torgb (ws 1), b8.conv0 (ws 1), b8.conv1 (ws 2), b8.torgb
(ws 3), ... The RGB skip path is FIR-upsampled with [1,3,3,1] and summed at every resolution.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from latentjax.config import GeneratorConfig
from latentjax.nets.common import add_noise, const_param, noise_buffer, normal_param
from latentjax.ops.conv import dense, modulated_conv, weight_gain
from latentjax.ops.fir import setup_filter, upsample_2x
from latentjax.ops.norm import bias_act


def synthesis_layer(
    p: dict,
    x: jax.Array,
    w: jax.Array,
    noise: jax.Array | None,
    *,
    up: bool,
    resample_taps,
    conv_clamp: float | None,
    fused: bool = False,
) -> jax.Array:
    """Modulated 3x3 conv (+2x up) + noise * strength + bias + lrelu*sqrt(2) (+ ADA's clamp).

    p: weight [3,3,I,O], affine_weight [w_dim, I], affine_bias [I] (incl. the +1),
       noise_strength [], bias [O], noise_const [H, W].
    """
    styles = dense(w, p["affine_weight"], p["affine_bias"])
    weight = p["weight"] * weight_gain(p["weight"].shape)
    f = setup_filter(resample_taps, gain=4.0) if up else None
    x = modulated_conv(x, weight, styles, demodulate=True, up=up, resample_filter=f, fused=fused)
    x = add_noise(x, noise, p["noise_const"], p["noise_strength"])
    return bias_act(x, p["bias"], "lrelu", clamp=conv_clamp)


def torgb_layer(p: dict, x: jax.Array, w: jax.Array, *, conv_clamp: float | None, fused: bool = False) -> jax.Array:
    """1x1 modulated conv without demodulation + bias. p: weight [1,1,I,C], affine_*, bias [C]."""
    styles = dense(w, p["affine_weight"], p["affine_bias"])
    weight = p["weight"] * weight_gain(p["weight"].shape)
    x = modulated_conv(x, weight, styles, demodulate=False, fused=fused)
    return bias_act(x, p["bias"], "linear", clamp=conv_clamp)


class SynthesisLayer(nn.Module):
    res: int
    in_ch: int
    out_ch: int
    w_dim: int
    up: bool = False
    resample_taps: tuple[float, ...] = (1.0, 3.0, 3.0, 1.0)
    conv_clamp: float | None = None

    @nn.compact
    def __call__(self, x: jax.Array, w: jax.Array, noise: jax.Array | None) -> jax.Array:
        p = {
            "weight": normal_param(self, "weight", (3, 3, self.in_ch, self.out_ch)),
            "affine_weight": normal_param(self, "affine_weight", (self.w_dim, self.in_ch)),
            "affine_bias": const_param(self, "affine_bias", (self.in_ch,), 1.0),
            "noise_strength": const_param(self, "noise_strength", ()),
            "bias": const_param(self, "bias", (self.out_ch,)),
            "noise_const": noise_buffer(self, self.res),
        }
        return synthesis_layer(p, x, w, noise, up=self.up, resample_taps=self.resample_taps, conv_clamp=self.conv_clamp)


class ToRGB(nn.Module):
    in_ch: int
    out_ch: int
    w_dim: int
    conv_clamp: float | None = None

    @nn.compact
    def __call__(self, x: jax.Array, w: jax.Array) -> jax.Array:
        p = {
            "weight": normal_param(self, "weight", (1, 1, self.in_ch, self.out_ch)),
            "affine_weight": normal_param(self, "affine_weight", (self.w_dim, self.in_ch)),
            "affine_bias": const_param(self, "affine_bias", (self.in_ch,), 1.0),
            "bias": const_param(self, "bias", (self.out_ch,)),
        }
        return torgb_layer(p, x, w, conv_clamp=self.conv_clamp)


class StyleGAN2Synthesis(nn.Module):
    """ws: [N, num_ws, w_dim], noise: list of num_ws-1 entries ([N|1, H, W] or None) -> [N, R, R, C]."""

    cfg: GeneratorConfig

    @nn.compact
    def __call__(self, ws: jax.Array, noise: list) -> jax.Array:
        cfg = self.cfg
        ch, wd, clamp = cfg.channels, cfg.w_dim, cfg.conv_clamp
        const = normal_param(self, "const", (4, 4, ch[0]))
        x = jnp.broadcast_to(const[None], (ws.shape[0], 4, 4, ch[0]))
        x = SynthesisLayer(4, ch[0], ch[0], wd, conv_clamp=clamp, name="b4_conv1")(x, ws[:, 0], noise[0])
        img = ToRGB(ch[0], cfg.img_channels, wd, clamp, name="b4_torgb")(x, ws[:, 1])
        f_up = setup_filter(cfg.resample_taps, gain=4.0)
        for i, res in enumerate(cfg.block_resolutions[1:]):
            k = 2 * i + 1  # ws / noise index of this block's conv0
            x = SynthesisLayer(
                res,
                x.shape[-1],
                ch[i + 1],
                wd,
                up=True,
                resample_taps=cfg.resample_taps,
                conv_clamp=clamp,
                name=f"b{res}_conv0",
            )(x, ws[:, k], noise[k])
            x = SynthesisLayer(res, ch[i + 1], ch[i + 1], wd, conv_clamp=clamp, name=f"b{res}_conv1")(
                x, ws[:, k + 1], noise[k + 1]
            )
            y = ToRGB(ch[i + 1], cfg.img_channels, wd, clamp, name=f"b{res}_torgb")(x, ws[:, k + 2])
            img = upsample_2x(img, f_up) + y
        return img
