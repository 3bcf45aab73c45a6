"""StyleGAN3's `filtered_lrelu` (Karras et al. 2021, "Alias-Free GAN", sec. 3.2 / App. D):
up-sample with a low-pass filter, bias + leaky ReLU (+ gain, clamp) at the higher rate, low-pass
and down-sample back. NHWC throughout; padding is `(x0, x1, y0, y1)` as NVIDIA's, relative to the
up-sampled image (negative = crop).

- `filtered_lrelu_ref`: the official reference semantics written out literally (zero-stuffing,
  pad/crop, true convolution, decimation). Clear, slow, and memory hungry: the zero-stuffed
  image is `up**2` times the input.
- `filtered_lrelu`: the same values from a polyphase up-sampler (each of the `up` output phases
  is a short correlation of the input: no zero-stuffed intermediate, `up` times fewer taps) and a
  strided down-sampler (only the kept outputs are computed). Separable (1-D) filters run as two
  1-D passes; a 2-D (radial) down filter runs per row of taps.

Filters may be traced arrays (they are stored buffers of a loaded model); only their shapes,
`up`, `down` and `padding` are static. `None` is the identity filter, as in the official code.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.ops.fir import depthwise_conv

_ONE = np.ones((1,), np.float32)


def _check_args(x, fu, fd, up: int, down: int, padding: Sequence[int]) -> tuple[int, int, int, int]:
    if x.ndim != 4:
        raise ValueError(f"filtered_lrelu needs NHWC input [N, H, W, C], got shape {tuple(x.shape)}")
    if int(up) != up or up < 1 or int(down) != down or down < 1:
        raise ValueError(f"up and down must be integers >= 1, got up={up}, down={down}")
    for name, f in (("fu", fu), ("fd", fd)):
        if f is not None and (np.ndim(f) not in (1, 2) or 0 in np.shape(f)):
            raise ValueError(f"{name} must be None, a 1-D (separable) or a 2-D filter, got shape {np.shape(f)}")
    pad = tuple(int(p) for p in padding)
    if len(pad) != 4:
        raise ValueError(f"padding must be (x0, x1, y0, y1), got {padding!r}")
    return pad


def _lrelu_gain_clamp(x: jax.Array, gain: float, slope: float, clamp: float | None) -> jax.Array:
    """NVIDIA's bias_act 'lrelu' with alpha=slope: lrelu(x) * gain, then clip to [-clamp, clamp]."""
    x = jnp.where(x >= 0, x, x * slope) * gain
    return x if clamp is None else jnp.clip(x, -clamp, clamp)


def _filter_size(f) -> tuple[int, int]:
    """(width, height) of a filter; None counts as 1x1."""
    if f is None:
        return 1, 1
    s = np.shape(f)
    return (s[0], s[0]) if len(s) == 1 else (s[1], s[0])


def output_size(in_hw: tuple[int, int], fu, fd, up: int, down: int, padding: Sequence[int]) -> tuple[int, int]:
    """(H, W) that `filtered_lrelu` returns for an input of size in_hw (the official formula)."""
    px0, px1, py0, py1 = padding
    (fuw, fuh), (fdw, fdh) = _filter_size(fu), _filter_size(fd)
    h = (in_hw[0] * up + py0 + py1 - (fuh - 1) - (fdh - 1) + (down - 1)) // down
    w = (in_hw[1] * up + px0 + px1 - (fuw - 1) - (fdw - 1) + (down - 1)) // down
    return h, w


# ---------------------------------------------------------------------------------------------
# Reference


def upfirdn2d_ref(x: jax.Array, f, up: int = 1, down: int = 1, padding=(0, 0, 0, 0), gain: float = 1.0,
                  flip_filter: bool = False) -> jax.Array:  # fmt: skip
    """NVIDIA's `_upfirdn2d_ref` on NHWC x: zero-stuff by `up`, pad/crop (x0, x1, y0, y1),
    convolve with f (1-D: separable, W then H; 2-D: [kh, kw]) times gain**(f.ndim / 2),
    keep every `down`-th sample."""
    n, h, w, c = x.shape
    px0, px1, py0, py1 = padding
    f = jnp.ones((1, 1), jnp.float32) if f is None else jnp.asarray(f, jnp.float32)
    if up > 1:
        x = jnp.zeros((n, h, up, w, up, c), x.dtype).at[:, :, 0, :, 0, :].set(x).reshape(n, h * up, w * up, c)
    x = jnp.pad(x, ((0, 0), (max(py0, 0), max(py1, 0)), (max(px0, 0), max(px1, 0)), (0, 0)))
    x = x[:, max(-py0, 0) : x.shape[1] - max(-py1, 0), max(-px0, 0) : x.shape[2] - max(-px1, 0)]
    f = f * gain ** (f.ndim / 2)
    if not flip_filter:  # true convolution: correlate with the flipped filter
        f = jnp.flip(f)
    if f.ndim == 2:
        x = depthwise_conv(x, f, "VALID")
    else:
        x = depthwise_conv(depthwise_conv(x, f[None, :], "VALID"), f[:, None], "VALID")
    return x[:, ::down, ::down]


def filtered_lrelu_ref(
    x: jax.Array,
    fu=None,
    fd=None,
    b: jax.Array | None = None,
    up: int = 1,
    down: int = 1,
    padding: Sequence[int] = (0, 0, 0, 0),
    gain: float = float(np.sqrt(2)),
    slope: float = 0.2,
    clamp: float | None = None,
    flip_filter: bool = False,
) -> jax.Array:
    """Official `_filtered_lrelu_ref`: x [N, H, W, C] + b [C] -> up-FIR (gain up**2, padding)
    -> lrelu * gain, clamp -> FIR down. Returns [N, *output_size(...), C]."""
    pad = _check_args(x, fu, fd, up, down, padding)
    if b is not None:
        x = x + b
    x = upfirdn2d_ref(x, fu, up=up, padding=pad, gain=up**2, flip_filter=flip_filter)
    x = _lrelu_gain_clamp(x, gain, slope, clamp)
    return upfirdn2d_ref(x, fd, down=down, flip_filter=flip_filter)


# ---------------------------------------------------------------------------------------------
# Fast (polyphase / strided) formulation


def up_fir_1d(x: jax.Array, f, up: int, pad0: int, pad1: int, axis: int, gain: float = 1.0,
              flip_filter: bool = False) -> jax.Array:  # fmt: skip
    """1-D `upfirdn` along `axis` (zero-stuff by `up`, pad/crop, convolve with f * gain) computed
    as `up` polyphase correlations of x, interleaved.

    With g = f flipped (true convolution), output i = q * up + r reads zero-stuffed samples at
    i + k - pad0, non-zero only for k = k0 + up * t with k0 = (pad0 - r) mod up; those are
    x[q + t + c_r], c_r = (r + k0 - pad0) / up. So phase r is a correlation of x with
    g[k0::up] (at most ceil(L / up) taps) shifted by c_r.
    """
    f = jnp.asarray(_ONE if f is None else f, jnp.float32) * gain
    g = f if flip_filter else f[::-1]
    n, taps = x.shape[axis], f.shape[0]
    out_len = n * up + pad0 + pad1 - taps + 1
    if out_len <= 0:
        raise ValueError(f"up-sampled size {n * up + pad0 + pad1} is smaller than the filter ({taps} taps)")
    q_len = -(-out_len // up)
    phases = []
    for r in range(up):
        k0 = (pad0 - r) % up
        phases.append((k0, (r + k0 - pad0) // up, list(range(k0, taps, up))))
    lo = min(c for _, c, _ in phases)
    hi = max(q_len - 1 + len(ks) - 1 + c for _, c, ks in phases)
    left, right = max(0, -lo), max(0, hi - (n - 1))
    widths = [(0, 0)] * x.ndim
    widths[axis] = (left, right)
    xp = jnp.pad(x, widths)
    outs = []
    for _, c, ks in phases:
        acc = None
        for t, k in enumerate(ks):
            term = jax.lax.slice_in_dim(xp, t + c + left, t + c + left + q_len, axis=axis) * g[k]
            acc = term if acc is None else acc + term
        outs.append(jnp.zeros_like(jax.lax.slice_in_dim(xp, 0, q_len, axis=axis)) if acc is None else acc)
    y = jnp.stack(outs, axis=axis + 1)  # [..., q, r, ...] -> interleave to q * up + r
    shape = list(x.shape)
    shape[axis] = q_len * up
    return jax.lax.slice_in_dim(y.reshape(shape), 0, out_len, axis=axis)


def down_fir_1d(x: jax.Array, f, down: int, axis: int, flip_filter: bool = False) -> jax.Array:
    """1-D convolution with f (valid) keeping every `down`-th output, computed only there."""
    f = jnp.asarray(_ONE if f is None else f, jnp.float32)
    g = f if flip_filter else f[::-1]
    n, taps = x.shape[axis], f.shape[0]
    out_len = -(-(n - taps + 1) // down)
    if out_len <= 0:
        raise ValueError(f"input of size {n} is smaller than the down filter ({taps} taps)")
    stop = lambda k: k + down * (out_len - 1) + 1  # noqa: E731
    terms = [jax.lax.slice_in_dim(x, k, stop(k), down, axis=axis) * g[k] for k in range(taps)]
    return sum(terms[1:], terms[0])


def _down_fir_2d(x: jax.Array, f, down: int, flip_filter: bool) -> jax.Array:
    """2-D (non-separable) filter: for every filter row, a strided row pick then a 1-D pass."""
    f = jnp.asarray(f, jnp.float32)
    g = f if flip_filter else f[::-1, ::-1]
    kh = g.shape[0]
    out_h = -(-(x.shape[1] - kh + 1) // down)
    acc = None
    for a in range(kh):
        rows = jax.lax.slice_in_dim(x, a, a + down * (out_h - 1) + 1, down, axis=1)
        term = down_fir_1d(rows, g[a], down, axis=2, flip_filter=True)
        acc = term if acc is None else acc + term
    return acc


def filtered_lrelu(
    x: jax.Array,
    fu=None,
    fd=None,
    b: jax.Array | None = None,
    up: int = 1,
    down: int = 1,
    padding: Sequence[int] = (0, 0, 0, 0),
    gain: float = float(np.sqrt(2)),
    slope: float = 0.2,
    clamp: float | None = None,
    flip_filter: bool = False,
) -> jax.Array:
    """`filtered_lrelu_ref`'s values, computed without the zero-stuffed image and without the
    discarded down-sampling outputs. x: [N, H, W, C], b: [C] -> [N, *output_size(...), C].

    A 2-D up filter (not used by StyleGAN3) falls back to the reference up-sampler.
    """
    px0, px1, py0, py1 = _check_args(x, fu, fd, up, down, padding)
    if b is not None:
        x = x + b
    if fu is not None and np.ndim(fu) == 2:
        x = upfirdn2d_ref(x, fu, up=up, padding=(px0, px1, py0, py1), gain=up**2, flip_filter=flip_filter)
    else:  # separable: gain up**2 split as up per axis, as the reference does
        x = up_fir_1d(x, fu, up, px0, px1, axis=2, gain=up, flip_filter=flip_filter)
        x = up_fir_1d(x, fu, up, py0, py1, axis=1, gain=up, flip_filter=flip_filter)
    x = _lrelu_gain_clamp(x, gain, slope, clamp)
    if fd is not None and np.ndim(fd) == 2:
        return _down_fir_2d(x, fd, down, flip_filter)
    x = down_fir_1d(x, fd, down, axis=2, flip_filter=flip_filter)
    return down_fir_1d(x, fd, down, axis=1, flip_filter=flip_filter)
