"""FIR filtering and 2x up-sampling on NHWC arrays.

`upfirdn2d` is the plain reference (zero-stuff, pad, filter, decimate) used by tests; the
generators use `transposed_conv_2x`, an exact polyphase form of a stride-2 transposed
convolution that runs as one ordinary 3x3 convolution (no zero-stuffed intermediate).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

_DN = ("NHWC", "HWIO", "NHWC")  # NHWC activations, HWIO kernels (TF layout)


def setup_filter(taps: Sequence[float], gain: float = 1.0) -> np.ndarray:
    """Separable 2-D filter from 1-D taps, normalised to sum 1, times `gain`. -> [k, k] f32."""
    t = np.asarray(taps, dtype=np.float64)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"filter taps must be a non-empty 1-D sequence, got shape {t.shape}")
    f = np.outer(t, t)
    return (f / f.sum() * gain).astype(np.float32)


def canonical_taps(taps: Sequence[float]) -> tuple[float, ...]:
    """1-D filter taps scaled so the smallest is 1, near-integers snapped (1e-5): [0.33, 1, 1,
    0.33] -> (1.0, 3.0, 3.0, 1.0). `setup_filter` normalises, so the filter is unchanged."""
    t = np.asarray(taps, dtype=np.float64)
    if t.ndim != 1 or t.size == 0 or np.any(t <= 0):
        raise ValueError(f"filter taps must be positive and 1-D, got {taps!r}")
    t = t / t.min()
    return tuple(float(np.round(x)) if abs(x - np.round(x)) < 1e-5 else float(x) for x in t)


def depthwise_conv(x: jax.Array, f: jax.Array | np.ndarray, padding) -> jax.Array:
    """Correlate every channel of x: [N, H, W, C] with the same 2-D filter f: [kh, kw]."""
    c = x.shape[-1]
    k = jnp.broadcast_to(jnp.asarray(f, x.dtype)[:, :, None, None], (*f.shape, 1, c))
    return jax.lax.conv_general_dilated(x, k, (1, 1), padding, dimension_numbers=_DN, feature_group_count=c)


def blur(x: jax.Array, taps) -> jax.Array:
    """Same-size blur with the separable filter outer(taps, taps) / sum^2 and zero 'SAME' padding
    (StyleGAN v1 `blur2d`, odd length). x: [N, H, W, C]. Runs as shifted adds: XLA's depthwise
    convolution is ~15x slower on CPU for this."""
    t = np.asarray(taps, np.float64)
    if t.ndim != 1 or t.size % 2 == 0:
        raise ValueError(f"blur taps must be an odd-length 1-D sequence, got {t.shape}")
    t = (t / t.sum()).astype(np.float32)
    p, (h, w) = t.size // 2, x.shape[1:3]
    x = jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    x = sum(float(t[j]) * x[:, j : j + h] for j in range(t.size))
    return sum(float(t[j]) * x[:, :, j : j + w] for j in range(t.size))


def upfirdn2d(x: jax.Array, f: np.ndarray, up: int = 1, down: int = 1, pad=(0, 0)) -> jax.Array:
    """Reference up-sample / FIR / down-sample of NHWC x, as NVIDIA's `upfirdn2d` (true
    convolution with f, i.e. f is flipped). pad = (before, after), the same on H and W."""
    n, h, w, c = x.shape
    if up > 1:
        z = jnp.zeros((n, h, up, w, up, c), x.dtype).at[:, :, 0, :, 0, :].set(x)
        x = z.reshape(n, h * up, w * up, c)
    x = jnp.pad(x, ((0, 0), pad, pad, (0, 0)))
    x = depthwise_conv(x, np.asarray(f)[::-1, ::-1], "VALID")
    return x[:, ::down, ::down, :]


def _conv3x3(x: jax.Array, kernel: jax.Array) -> jax.Array:
    return jax.lax.conv_general_dilated(x, kernel, (1, 1), ((1, 1), (1, 1)), dimension_numbers=_DN)


@jax.custom_vjp
def conv3x3_same(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """3x3 'SAME' correlation x: [N, H, W, I], kernel: [3, 3, I, O] -> [N, H, W, O].

    Same values and gradients as `lax.conv_general_dilated`; only the weight gradient is computed
    differently (see `_conv3x3_bwd`). Reverse mode only: no jvp / jacfwd through it.
    """
    return _conv3x3(x, kernel)


def _conv3x3_fwd(x, kernel):
    return _conv3x3(x, kernel), (x, kernel)


def _conv3x3_bwd(res, dy):
    """dx: the usual transposed conv. dkernel: nine [I, NHW] @ [NHW, O] products of shifted views.

    XLA:CPU's own weight gradient is pathological for some shapes: 328 ms vs 70 ms here for the
    toy generator's 32->64 up-conv (N 32, 32x32, I 32, 4*O 64), the step that dominated training.
    """
    x, kernel = res
    h, w = x.shape[1:3]
    dx = _conv3x3(dy, jnp.swapaxes(kernel[::-1, ::-1], 2, 3))
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    taps = [jnp.einsum("nhwi,nhwo->io", xp[:, a : a + h, b : b + w], dy) for a in range(3) for b in range(3)]
    return dx, jnp.stack(taps).reshape(kernel.shape).astype(kernel.dtype)


conv3x3_same.defvjp(_conv3x3_fwd, _conv3x3_bwd)


def _phase_indices(length: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Kernel index read by output phase p in {0,1} at 3x3 tap t in {0,1,2} (input x[j+t-1])."""
    idx = np.array([[p + offset - 2 * (t - 1) for t in range(3)] for p in range(2)])
    valid = (idx >= 0) & (idx < length)
    used = np.unique(idx[valid])
    if used.size != length:  # every kernel tap must land in some phase, else we'd drop terms
        raise ValueError(f"kernel of length {length} with offset {offset} needs more than 3 taps")
    return np.clip(idx, 0, length - 1), valid


def transposed_conv_2x(x: jax.Array, kernel: jax.Array, offset: int) -> jax.Array:
    """y[n] = sum_i x[i] * kernel[n - 2i + offset] along H and W (a stride-2 transposed conv).

    x: [N, H, W, Cin], kernel: [L, L, Cin, Cout] with L <= 6 -> [N, 2H, 2W, Cout].
    Computed exactly as 4 output phases of one 3x3 'SAME' convolution (sub-pixel conv).
    """
    n, h, w, _ = x.shape
    length, cin, cout = kernel.shape[0], kernel.shape[2], kernel.shape[3]
    idx, valid = _phase_indices(length, offset)
    k = kernel[idx[:, None, :, None], idx[None, :, None, :]]  # [py, px, ty, tx, Cin, Cout]
    mask = valid[:, None, :, None] & valid[None, :, None, :]
    k = k * jnp.asarray(mask, kernel.dtype)[..., None, None]
    k = jnp.transpose(k, (2, 3, 4, 0, 1, 5)).reshape(3, 3, cin, 4 * cout)
    y = conv3x3_same(x, k)
    y = y.reshape(n, h, w, 2, 2, cout).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(n, 2 * h, 2 * w, cout)


def upsample_2x(x: jax.Array, f: np.ndarray) -> jax.Array:
    """FIR 2x up-sampling (StyleGAN2 `upsample_2d`, f already scaled by gain 4): [N,H,W,C] -> [N,2H,2W,C].

    Equals upfirdn2d(x, f, up=2, pad=(L//2, L//2 - 1)) for any even-length f: [L, L].
    """
    c = x.shape[-1]
    length = f.shape[0]
    k = jnp.asarray(f, x.dtype)[:, :, None, None] * jnp.eye(c, dtype=x.dtype)
    return transposed_conv_2x(x, k, offset=length - 1 - length // 2)


def _phase_taps(length: int, offset: int, p: int) -> tuple[int, int]:
    """Input offsets d (y[2j+p] reads x[j-d] * K[2d+p+offset]) of output phase p: (d_min, d_max)."""
    lo = -((p + offset) // 2)  # ceil((-p - offset) / 2)
    hi = (length - 1 - p - offset) // 2
    return lo, hi


def phase_transposed_conv_2x(x: jax.Array, kernel: jax.Array, offset: int, out_len: int) -> jax.Array:
    """y[n] = sum_i x[i] * kernel[n - 2i + offset] along H and W, for n in [0, out_len).

    x: [N, H, W, Cin] (square), kernel: [L, L, Cin, Cout] -> [N, out_len, out_len, Cout].
    The same sums as `transposed_conv_2x`, but every output phase (py, px) is its own VALID
    convolution with only the kernel taps that phase reads (polyphase sub-kernels): L*L*Cin*Cout
    MACs per input pixel, the official transposed conv's count, with no zero taps.
    """
    n, h, _, cin = x.shape
    length, cout = kernel.shape[0], kernel.shape[3]
    half = (out_len + 1) // 2  # rows of the even phase
    per_axis = []
    for p in range(2):
        lo, hi = _phase_taps(length, offset, p)
        rows = (out_len - p + 1) // 2  # outputs j of this phase: n = 2j + p < out_len
        # correlation over xpad[j + t] = x[j - (hi - t)]: pad hi before, whatever rows need after
        idx = [2 * (hi - t) + p + offset for t in range(hi - lo + 1)]
        per_axis.append((hi, rows - 1 - h - lo + 1, idx, rows))
    out = jnp.zeros((n, half, 2, half, 2, cout), x.dtype)
    for py, (pad_y0, pad_y1, iy, ry) in enumerate(per_axis):
        for px, (pad_x0, pad_x1, ix, rx) in enumerate(per_axis):
            if not iy or not ix:  # a kernel shorter than the stride: this phase reads no tap
                continue
            k = kernel[np.asarray(iy)[:, None], np.asarray(ix)[None, :]]  # [Ty, Tx, Cin, Cout]
            xp = jax.lax.pad(
                x, jnp.zeros((), x.dtype), ((0, 0, 0), (pad_y0, pad_y1, 0), (pad_x0, pad_x1, 0), (0, 0, 0))
            )
            if k.shape[:2] == (1, 1):  # a matmul; XLA's 1x1 conv path is no faster
                ph = jnp.einsum("nhwi,io->nhwo", xp, k[0, 0])
            else:
                ph = jax.lax.conv_general_dilated(xp, k, (1, 1), "VALID", dimension_numbers=_DN)
            out = out.at[:, :ry, py, :rx, px].set(ph)
    return out.reshape(n, 2 * half, 2 * half, cout)[:, :out_len, :out_len]


def upsample_conv_polyphase(x: jax.Array, weight: jax.Array, f: np.ndarray, pad0: int) -> jax.Array:
    """StyleGAN2's 2x up-sampling conv at the official MAC count: a stride-2 transposed conv with
    the flipped 3x3 `weight` as polyphase sub-kernels (`phase_transposed_conv_2x`, 9*I*O MACs per
    INPUT pixel), then the FIR `f` (incl. gain 4) as separable shifted adds on the 2H+1 grid.

    x: [N, H, H, I], weight: [k, k, I, O] -> [N, 2H, 2H, O]; equals
    transposed_conv_2x(x, full_conv2d_kernels(weight[::-1, ::-1], f), offset=pad0), i.e.
    y[n] = sum_m u[m] * f[n + pad0 - m] with u the transposed conv on m in [0, 2H + k - 2].
    """
    h = x.shape[1]
    kw = weight.shape[0]
    u = phase_transposed_conv_2x(x, weight[::-1, ::-1], 0, 2 * h + kw - 2)  # [N, 2H+k-2, ., O]
    return fir_conv_2x_out(u, f, pad0, 2 * h)


def fir_conv_2x_out(u: jax.Array, f: np.ndarray, shift: int, out_len: int) -> jax.Array:
    """y[n] = sum_m u[m] * f[n + shift - m] on H and W (zero outside u), n in [0, out_len).

    u: [N, M, M, C]; f: [L, L], separable: applied as 2 x L shifted multiply-adds (XLA's
    depthwise convolution is slow on CPU, see `blur`)."""
    f = np.asarray(f, np.float64)
    length = f.shape[0]
    col, row = f.sum(axis=1), f.sum(axis=0)
    if not np.allclose(np.outer(col, row) / f.sum(), f, rtol=1e-6, atol=1e-9):
        raise ValueError("fir_conv_2x_out needs a separable (rank-1) filter")
    col, row = col / np.sqrt(abs(f.sum())), row / np.sqrt(abs(f.sum())) * np.sign(f.sum())
    m = u.shape[1]
    # correlation form: y[n] = sum_s upad[n + s] * f[L-1-s], upad[q] = u[q + shift - (L-1)]
    lo = length - 1 - shift
    hi = out_len + length - 1 - m - lo
    up = jax.lax.pad(u, jnp.zeros((), u.dtype), ((0, 0, 0), (lo, hi, 0), (lo, hi, 0), (0, 0, 0)))
    up = sum(float(col[length - 1 - s]) * up[:, s : s + out_len] for s in range(length))
    return sum(float(row[length - 1 - s]) * up[:, :, s : s + out_len] for s in range(length))


def full_conv2d_kernels(w: jax.Array, f: np.ndarray) -> jax.Array:
    """Full 2-D convolution of every [k, k] slice of w: [k, k, I, O] with f: [m, m] -> [k+m-1, ...]."""
    k, m = w.shape[0], f.shape[0]
    out = jnp.zeros((k + m - 1, k + m - 1, *w.shape[2:]), w.dtype)
    for a in range(m):
        for b in range(m):
            out = out.at[a : a + k, b : b + k].add(float(f[a, b]) * w)
    return out
