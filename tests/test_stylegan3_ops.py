"""filtered_lrelu: the reference against NVIDIA's `_filtered_lrelu_ref` / `_upfirdn2d_ref` outputs
(../shared/golden/stylegan3/sg3_ops.*), and the fast polyphase form against the reference."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import SHARED
from hypothesis import given, settings
from hypothesis import strategies as st

from latentjax.ops.filtered_lrelu import (
    down_fir_1d,
    filtered_lrelu,
    filtered_lrelu_ref,
    output_size,
    up_fir_1d,
    upfirdn2d_ref,
)

OPS = SHARED / "stylegan3" / "sg3_ops.json"
FAST = settings(max_examples=25, deadline=None)


def _cases():
    if not OPS.exists():
        return [pytest.param(None, marks=pytest.mark.skipif(not OPS.exists(), reason=f"{OPS} not present"))]
    return [pytest.param((k, v), id=k) for k, v in json.loads(OPS.read_text())["cases"].items()]


@pytest.fixture(scope="module")
def ops_npz():
    return np.load(OPS.with_suffix(".npz"))


def _nhwc(a):
    return jnp.asarray(np.transpose(a, (0, 2, 3, 1)))


@pytest.mark.parametrize("case", _cases())
def test_official_op_cases(case, ops_npz):
    """Reference and fast op both reproduce the official CPU float32 outputs (within float32 noise:
    the fixture's own float64-vs-float32 difference is up to 8e-7)."""
    name, c = case
    call, z = c["call"], ops_npz

    def arr(k):
        return None if call[k] in (None, "None") else z[call[k]]

    want = np.transpose(z[f"{name}.out"], (0, 2, 3, 1))
    x = _nhwc(z[call["x"]])
    if "fu" in call:
        kw = dict(fu=arr("fu"), fd=arr("fd"), b=jnp.asarray(arr("b")), up=call["up"], down=call["down"])
        kw.update(padding=call["padding"], gain=call["gain"], slope=call["slope"], clamp=call["clamp"])
        outs = [filtered_lrelu_ref(x, **kw), filtered_lrelu(x, **kw)]
        assert output_size(x.shape[1:3], kw["fu"], kw["fd"], kw["up"], kw["down"], kw["padding"]) == want.shape[1:3]
    else:
        kw = dict(up=call["up"], down=call["down"], padding=call["padding"], gain=call["gain"])
        outs = [upfirdn2d_ref(x, arr("f"), **kw)]
    for out in outs:
        assert out.shape == want.shape
        np.testing.assert_allclose(np.asarray(out), want, atol=2e-6, rtol=0)


def _upfir_dense(x: np.ndarray, f: np.ndarray, up: int, pad0: int, pad1: int) -> np.ndarray:
    """1-D upfirdn straight from its definition (float64, no convolution routine): zero-stuff,
    pad/crop, y[i] = sum_k f[k] * z[i + L - 1 - k]."""
    z = np.zeros(len(x) * up)
    z[::up] = x
    z = np.concatenate([np.zeros(max(pad0, 0)), z, np.zeros(max(pad1, 0))])
    z = z[max(-pad0, 0) : len(z) - max(-pad1, 0)]
    n = len(z) - len(f) + 1
    return np.array([sum(f[k] * z[i + len(f) - 1 - k] for k in range(len(f))) for i in range(n)])


@FAST
@given(
    st.integers(0, 2**31 - 1),
    st.integers(3, 12),
    st.integers(1, 4),
    st.integers(1, 9),
    st.integers(-6, 9),
    st.integers(-6, 9),
)
def test_up_fir_1d_polyphase_matches_definition(seed, n, up, taps, pad0, pad1):
    if n * up + pad0 + pad1 < taps or n * up + min(pad0, 0) + min(pad1, 0) <= 0:
        return
    rng = np.random.default_rng(seed)
    x, f = rng.standard_normal(n), rng.standard_normal(taps)
    got = up_fir_1d(jnp.asarray(x[None, :, None], jnp.float32), f, up, pad0, pad1, axis=1)[0, :, 0]
    np.testing.assert_allclose(np.asarray(got), _upfir_dense(x, f, up, pad0, pad1), atol=1e-5)


@FAST
@given(st.integers(0, 2**31 - 1), st.integers(1, 20), st.integers(1, 4), st.integers(1, 9))
def test_down_fir_1d_matches_definition(seed, n, down, taps):
    if n < taps:
        return
    rng = np.random.default_rng(seed)
    x, f = rng.standard_normal(n), rng.standard_normal(taps)
    got = down_fir_1d(jnp.asarray(x[None, :, None], jnp.float32), f, down, axis=1)[0, :, 0]
    want = _upfir_dense(x, f, 1, 0, 0)[::down]
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-5)


flrelu_case = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**31 - 1),
        "hw": st.tuples(st.integers(4, 11), st.integers(4, 11)),
        "up": st.integers(1, 4),
        "down": st.integers(1, 3),
        "fu": st.sampled_from(["none", "1d", "2d"]),
        "fd": st.sampled_from(["none", "1d", "2d"]),
        "taps": st.integers(2, 8),
        "pad": st.tuples(*[st.integers(-3, 8)] * 4),
        "clamp": st.sampled_from([None, 0.3, 2.0]),
        "slope": st.sampled_from([0.2, 1.0, 0.0]),
        "gain": st.sampled_from([1.0, float(np.sqrt(2))]),
        "flip": st.booleans(),
    }
)


def _filters(c, rng):
    def make(kind, taps):
        if kind == "none":
            return None
        if kind == "1d":
            return rng.uniform(-0.2, 1.0, taps).astype(np.float32)
        return rng.uniform(-0.2, 1.0, (taps, taps + 1)).astype(np.float32)

    return make(c["fu"], c["taps"] * c["up"] if c["up"] > 1 else c["taps"]), make(c["fd"], c["taps"])


@FAST
@given(flrelu_case)
@pytest.mark.slow  # ~34 s on 2 quiet cores, setup included (2026-12-02)
def test_fast_filtered_lrelu_equals_reference(c):
    """Polyphase up / strided down == the literal reference for any filters (separable, 2-D,
    identity), factors, asymmetric padding or cropping, clamp, slope, gain and flip."""
    rng = np.random.default_rng(c["seed"])
    fu, fd = _filters(c, rng)
    h, w = c["hw"]
    px0, px1, py0, py1 = c["pad"]
    fuw, fuh = (1, 1) if fu is None else (fu.shape[-1], fu.shape[0])
    fdw, fdh = (1, 1) if fd is None else (fd.shape[-1], fd.shape[0])
    if min(w * c["up"] + px0 + px1 - fuw + 1 - fdw + 1, h * c["up"] + py0 + py1 - fuh + 1 - fdh + 1) < 1:
        return
    x = jnp.asarray(rng.standard_normal((2, h, w, 3)), jnp.float32)
    b = jnp.asarray(rng.standard_normal(3), jnp.float32)
    kw = dict(fu=fu, fd=fd, b=b, up=c["up"], down=c["down"], padding=c["pad"], gain=c["gain"], slope=c["slope"])
    kw.update(clamp=c["clamp"], flip_filter=c["flip"])
    ref, fast = filtered_lrelu_ref(x, **kw), filtered_lrelu(x, **kw)
    assert fast.shape == ref.shape == (2, *output_size((h, w), fu, fd, c["up"], c["down"], c["pad"]), 3)
    np.testing.assert_allclose(np.asarray(fast), np.asarray(ref), atol=2e-5, rtol=1e-5)


@pytest.mark.slow  # compile- or render-heavy (judged from the code, 2026-12-02)
def test_fast_gradients_equal_reference():
    """Same gradients w.r.t. input, bias and (traced) filters: the projector differentiates it."""
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((1, 9, 8, 2)), jnp.float32)
    b = jnp.asarray(rng.standard_normal(2), jnp.float32)
    fu, fd = jnp.asarray(rng.uniform(0, 1, 8), jnp.float32), jnp.asarray(rng.uniform(0, 1, (4, 4)), jnp.float32)

    def loss(op):
        return lambda x, b, fu, fd: jnp.sum(
            jnp.sin(op(x, fu, fd, b, up=2, down=2, padding=(3, 2, 4, 1), clamp=1.0)) ** 2
        )

    g_ref = jax.grad(loss(filtered_lrelu_ref), argnums=(0, 1, 2, 3))(x, b, fu, fd)
    g_fast = jax.grad(loss(filtered_lrelu), argnums=(0, 1, 2, 3))(x, b, fu, fd)
    for a, r in zip(g_fast, g_ref):
        assert float(jnp.abs(r).max()) > 0
        np.testing.assert_allclose(np.asarray(a), np.asarray(r), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(up=0), "up and down"),
        (dict(padding=(1, 2, 3)), "padding"),
        (dict(fu=np.ones((2, 2, 2))), "fu must be"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        filtered_lrelu(jnp.zeros((1, 4, 4, 1)), **kwargs)
    with pytest.raises(ValueError, match="NHWC"):
        filtered_lrelu(jnp.zeros((4, 4, 1)))
