"""Equalised-learning-rate dense / conv layers and StyleGAN2's modulated convolution.

Weights are stored raw, exactly as in NVIDIA's checkpoints; the He-constant runtime gain
(`weight_gain`) is applied on every call (StyleGAN paper sec. 4.1, "equalized learning rate").
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.ops.fir import _DN, conv3x3_same, full_conv2d_kernels, upsample_conv_polyphase


def weight_gain(shape: tuple[int, ...], gain: float = 1.0, lr_mul: float = 1.0) -> float:
    """Runtime coefficient of an equalised weight of `shape` ([.., fan_in dims.., out])."""
    fan_in = int(np.prod(shape[:-1]))
    return float(gain / np.sqrt(fan_in) * lr_mul)


def dense(
    x: jax.Array, weight: jax.Array, bias: jax.Array | None = None, *, gain: float = 1.0, lr_mul: float = 1.0
) -> jax.Array:
    """x: [N, I] @ (weight: [I, O] * he-gain) + bias * lr_mul -> [N, O]."""
    y = x @ (weight * weight_gain(weight.shape, gain, lr_mul))
    if bias is not None:
        y = y + bias * lr_mul
    return y


def conv2d(x: jax.Array, weight: jax.Array, *, gain: float = 1.0) -> jax.Array:
    """'SAME' convolution (TF semantics, odd kernels). x: [N,H,W,I], weight: [k,k,I,O]."""
    w = weight * weight_gain(weight.shape, gain)
    return _same_conv(x, w)


def _same_conv(x: jax.Array, w: jax.Array) -> jax.Array:
    """'SAME' correlation with an odd kernel w: [k, k, I, O]; 3x3 goes through `conv3x3_same`
    (same values, a much cheaper weight gradient on XLA:CPU)."""
    if w.shape[:2] == (3, 3):
        return conv3x3_same(x, w)
    p = w.shape[0] // 2
    return jax.lax.conv_general_dilated(x, w, (1, 1), ((p, p), (p, p)), dimension_numbers=_DN)


def upsample_conv2d_pad(weight: jax.Array, resample_filter: np.ndarray) -> int:
    """Offset of StyleGAN2's `upsample_conv_2d` FIR after the transposed conv (see below)."""
    kw, lf = weight.shape[0], resample_filter.shape[0]
    return lf - 2 - (lf - kw) // 2


def upsample_conv2d_kernel(weight: jax.Array, resample_filter: np.ndarray) -> tuple[jax.Array, int]:
    """Kernel + offset for `transposed_conv_2x` equal to StyleGAN2's `upsample_conv_2d`
    (transposed 3x3 conv with the flipped weight, then FIR `resample_filter` incl. gain 4)."""
    # official pads after the transposed conv: pad0 = (lf - kw) // 2 + 1; offset = lf - 1 - pad0
    return full_conv2d_kernels(weight[::-1, ::-1], resample_filter), upsample_conv2d_pad(weight, resample_filter)


def modulated_conv(
    x: jax.Array,
    weight: jax.Array,
    style: jax.Array,
    *,
    demodulate: bool = True,
    up: bool = False,
    resample_filter: np.ndarray | None = None,
    fused: bool = False,
) -> jax.Array:
    """StyleGAN2 modulated convolution (paper sec. 2.2, official `modulated_conv2d_layer`).

    x: [N, H, W, I]; weight: [k, k, I, O] already he-scaled; style: [N, I] (affine(w) + 1).
    up=True doubles H and W with the official transposed-conv + FIR path.
    fused=False scales activations before/after a shared-weight conv (fast on every backend);
    fused=True builds one weight per sample (the official default); both are the same math.
    """
    if demodulate:
        ww = weight[None] * style[:, None, None, :, None]  # [N, k, k, I, O]
        d = jax.lax.rsqrt(jnp.sum(ww * ww, axis=(1, 2, 3)) + 1e-8)  # [N, O]

    def conv(xs, w):
        if up:  # the official MAC count: polyphase transposed conv, then the FIR (BENCHMARKS.md)
            return upsample_conv_polyphase(xs, w, resample_filter, upsample_conv2d_pad(w, resample_filter))
        return _same_conv(xs, w)

    if fused:
        ww = weight[None] * style[:, None, None, :, None]
        if demodulate:
            ww = ww * d[:, None, None, None, :]
        return jax.vmap(lambda xi, wi: conv(xi[None], wi)[0])(x, ww)
    y = conv(x * style[:, None, None, :], weight)
    if demodulate:
        y = y * d[:, None, None, :]
    return y


def conv3x3_taps(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """3x3 'SAME' correlation as nine [N*H*W, I] @ [I, O] products of shifted views (x: [N, H, W, I],
    kernel: [3, 3, I, O] -> [N, H, W, O]); the values of `lax.conv_general_dilated` to rounding.

    For feature maps of a few pixels and many channels (LPIPS on small generators' images, see
    `perceptual.vgg16`): a VGG16 relu5_3 gradient of two 16^2 images (512 channels at 2x2 and 1x1)
    takes 396 ms through XLA:CPU's conv, 77 ms with these products (2026-12-03, one core).
    """
    h, w = x.shape[1:3]
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    taps = [jnp.einsum("nhwi,io->nhwo", xp[:, a : a + h, b : b + w], kernel[a, b]) for a in range(3) for b in range(3)]
    return sum(taps[1:], taps[0])
