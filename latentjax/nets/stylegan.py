"""StyleGAN (v1) synthesis network, as NVIDIA's `G_synthesis` in training/networks_stylegan.py.

Layer i (0..num_ws-1): 4x4 Const (0), 4x4 Conv (1), then per resolution R: Conv0_up (up-sample,
3x3 conv, [1,2,1] blur) and Conv1. Every layer ends with the official `layer_epilogue`:
noise * per-channel weight, bias, leaky ReLU, instance norm, style modulation (AdaIN).
Only the final ToRGB runs (lod = 0, the trained network's state).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from latentjax.config import GeneratorConfig
from latentjax.nets.common import add_noise, const_param, noise_buffer, normal_param
from latentjax.ops.conv import conv2d, dense, weight_gain
from latentjax.ops.fir import blur, transposed_conv_2x
from latentjax.ops.norm import SQRT2, instance_norm, leaky_relu


def style_mod(x: jax.Array, w: jax.Array, weight: jax.Array, bias: jax.Array) -> jax.Array:
    """AdaIN scale/shift: style = affine(w) = [ys - 1 | yb]; x: [N,H,W,C] * (ys) + yb."""
    style = dense(w, weight, bias, gain=1.0)  # [N, 2C]
    c = x.shape[-1]
    return x * (style[:, None, None, :c] + 1.0) + style[:, None, None, c:]


def layer_epilogue(p: dict, x: jax.Array, w: jax.Array, noise: jax.Array | None) -> jax.Array:
    """p: noise_weight [C], bias [C], style_weight [w_dim, 2C], style_bias [2C], noise_const [H, W]."""
    x = add_noise(x, noise, p["noise_const"], p["noise_weight"])
    x = leaky_relu(x + p["bias"])
    x = instance_norm(x)
    return style_mod(x, w, p["style_weight"], p["style_bias"])


def upscale_conv(x: jax.Array, weight: jax.Array, fused: bool) -> jax.Array:
    """Official `upscale2d_conv2d` with gain sqrt(2): nearest 2x + 3x3 conv, or (fused) a
    stride-2 transposed conv with the 4 shifted copies of the kernel summed into 4x4."""
    if not fused:
        return conv2d(jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2), weight, gain=SQRT2)
    w = weight * weight_gain(weight.shape, SQRT2)
    w = jnp.pad(w, ((1, 1), (1, 1), (0, 0), (0, 0)))
    w = w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]  # [k+1, k+1, I, O]
    # TF conv2d_transpose, stride 2, 'SAME': y[n] = sum_i x[i] * w[n - 2i + 1]
    return transposed_conv_2x(x, w, offset=1)


class StyleLayer(nn.Module):
    """One v1 layer: optional conv (none for the 4x4 Const layer) + epilogue."""

    res: int
    in_ch: int  # 0: the Const layer, no convolution
    out_ch: int
    w_dim: int
    up: bool = False
    fused: bool = False
    blur_taps: tuple[float, ...] = (1.0, 2.0, 1.0)

    @nn.compact
    def __call__(self, x: jax.Array, w: jax.Array, noise: jax.Array | None) -> jax.Array:
        c = self.out_ch
        if self.in_ch:
            weight = normal_param(self, "weight", (3, 3, self.in_ch, c))
            if self.up:
                x = upscale_conv(x, weight, self.fused)
                if self.blur_taps:
                    x = blur(x, self.blur_taps)
            else:
                x = conv2d(x, weight, gain=SQRT2)
        p = {
            "noise_weight": const_param(self, "noise_weight", (c,)),
            "bias": const_param(self, "bias", (c,)),
            "style_weight": normal_param(self, "style_weight", (self.w_dim, 2 * c)),
            "style_bias": const_param(self, "style_bias", (2 * c,)),
            "noise_const": noise_buffer(self, self.res),
        }
        return layer_epilogue(p, x, w, noise)


class StyleGANSynthesis(nn.Module):
    """ws: [N, num_ws, w_dim], noise: list of num_ws entries ([N|1, H, W] or None) -> [N, R, R, C]."""

    cfg: GeneratorConfig

    @nn.compact
    def __call__(self, ws: jax.Array, noise: list) -> jax.Array:
        cfg = self.cfg
        ch = cfg.channels
        const = const_param(self, "const", (4, 4, ch[0]), 1.0)
        x = jnp.broadcast_to(const[None], (ws.shape[0], 4, 4, ch[0]))
        x = StyleLayer(4, 0, ch[0], cfg.w_dim, name="b4_const")(x, ws[:, 0], noise[0])
        x = StyleLayer(4, ch[0], ch[0], cfg.w_dim, name="b4_conv")(x, ws[:, 1], noise[1])
        for i, res in enumerate(cfg.block_resolutions[1:]):
            layer = 2 * i + 2
            x = StyleLayer(
                res,
                x.shape[-1],
                ch[i + 1],
                cfg.w_dim,
                up=True,
                fused=cfg.fused_up[i],
                blur_taps=cfg.blur_taps,
                name=f"b{res}_conv0_up",
            )(x, ws[:, layer], noise[layer])
            x = StyleLayer(res, ch[i + 1], ch[i + 1], cfg.w_dim, name=f"b{res}_conv1")(
                x, ws[:, layer + 1], noise[layer + 1]
            )
        torgb_w = normal_param(self, "torgb_weight", (1, 1, ch[-1], cfg.img_channels))
        torgb_b = const_param(self, "torgb_bias", (cfg.img_channels,))
        return conv2d(x, torgb_w, gain=1.0) + torgb_b
