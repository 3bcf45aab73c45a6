"""Property tests of interpolation (lerp, slerp, paths) and W+ layer groups (latent.py)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latentjax.config import GeneratorConfig
from latentjax.latent import interpolation_path, layer_set, lerp, slerp, style_mix, ws_resolutions

FAST = settings(max_examples=25, deadline=None)


def arr(seed, *shape):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def unit(x):
    return x / jnp.linalg.norm(x, axis=-1, keepdims=True)


# few distinct shapes: every new shape is a new (eager) compile
pairs = st.tuples(st.integers(0, 2**31 - 1), st.sampled_from([1, 3]), st.sampled_from([2, 5]))
ts = st.floats(0.0, 1.0, width=32)


# ---- lerp ------------------------------------------------------------------------------------------


@FAST
@given(pairs)
def test_lerp_endpoints_exact_and_midpoint(case):
    seed, n, d = case
    a, b = arr(seed, n, 3, d), arr(seed + 1, n, 3, d)
    np.testing.assert_array_equal(lerp(a, b, 0.0), a)
    np.testing.assert_array_equal(lerp(a, b, 1.0), b)
    np.testing.assert_allclose(lerp(a, b, 0.5), (a + b) / 2, rtol=0, atol=1e-6)


@FAST
@given(pairs)
def test_lerp_per_sample_t(case):
    seed, n, d = case
    a, b = arr(seed, n, d), arr(seed + 1, n, d)
    t = jnp.asarray(np.random.default_rng(seed).uniform(size=n).astype(np.float32))
    out = lerp(a, b, t)
    for i in range(n):
        np.testing.assert_allclose(out[i], lerp(a[i], b[i], t[i]), rtol=0, atol=1e-6)


# ---- slerp -----------------------------------------------------------------------------------------


@FAST
@given(pairs, ts)
@pytest.mark.slow  # ~5 s of CPU (2026-12-02)
def test_slerp_unit_norm_endpoints_and_constant_speed(case, t):
    seed, n, d = case
    a, b = arr(seed, n, d) * 3.0, arr(seed + 1, n, d)
    out = slerp(a, b, t)
    assert bool(jnp.all(jnp.isfinite(out)))
    np.testing.assert_allclose(jnp.linalg.norm(out, axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(slerp(a, b, 0.0), unit(a), atol=1e-5)  # NVIDIA's slerp: unit directions
    np.testing.assert_allclose(slerp(a, b, 1.0), unit(b), atol=1e-5)
    # great-circle path at constant angular speed: angle(a, out) = t * angle(a, b)
    theta = jnp.arccos(jnp.clip(jnp.sum(unit(a) * unit(b), -1), -1, 1))
    got = jnp.arccos(jnp.clip(jnp.sum(unit(a) * out, -1), -1, 1))
    np.testing.assert_allclose(got, t * theta, atol=2e-3)


@FAST
@given(pairs, ts)
def test_slerp_rescale_interpolates_magnitude(case, t):
    seed, n, d = case
    a, b = arr(seed, n, d) * 2.0, arr(seed + 1, n, d)
    np.testing.assert_allclose(slerp(a, b, 0.0, rescale=True), a, atol=1e-5)
    np.testing.assert_allclose(slerp(a, b, 1.0, rescale=True), b, atol=1e-5)
    want = (1 - t) * jnp.linalg.norm(a, axis=-1) + t * jnp.linalg.norm(b, axis=-1)
    np.testing.assert_allclose(jnp.linalg.norm(slerp(a, b, t, rescale=True), axis=-1), want, rtol=1e-5)


@FAST
@given(pairs, ts, st.floats(0.125, 8.0, width=32))
def test_slerp_parallel_is_constant(case, t, scale):
    seed, n, d = case
    a = arr(seed, n, d)
    np.testing.assert_allclose(slerp(a, a, t), unit(a), atol=1e-6)
    np.testing.assert_allclose(slerp(a, a * scale, t), unit(a), atol=1e-5)


@FAST
@given(pairs, ts)
def test_slerp_antiparallel_is_finite_and_on_sphere(case, t):
    seed, n, d = case
    a = arr(seed, n, d)
    for tt in (t, 0.5):
        out = slerp(a, -a, tt)
        assert bool(jnp.all(jnp.isfinite(out)))
        np.testing.assert_allclose(jnp.linalg.norm(out, axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(slerp(a, -a, 1.0), -unit(a), atol=1e-5)
    np.testing.assert_allclose(jnp.sum(slerp(a, -a, 0.5) * unit(a), -1), 0.0, atol=1e-5)  # half way: 90 degrees


@pytest.mark.slow  # ~4 s of CPU (2026-12-02)
def test_slerp_per_sample_t_and_zero_vector():
    a, b = arr(0, 4, 3), arr(1, 4, 3)
    t = jnp.asarray([0.0, 0.25, 0.5, 1.0], jnp.float32)
    out = slerp(a, b, t)
    for i in range(4):
        np.testing.assert_allclose(out[i], slerp(a[i], b[i], t[i]), atol=1e-6)
    assert bool(jnp.all(jnp.isfinite(slerp(jnp.zeros((2, 3), jnp.float32), b[:2], 0.5))))


# ---- interpolation paths ------------------------------------------------------------------------


# a few key counts and step counts (one keyframe, odd, even): each new shape compiles the path afresh
@settings(max_examples=12, deadline=None)
@given(
    st.integers(0, 2**31 - 1), st.sampled_from([1, 2, 4]), st.sampled_from([1, 3]), st.sampled_from(["lerp", "slerp"])
)
@pytest.mark.slow
def test_path_length_and_exact_keyframes(seed, k, steps, mode):
    keys = arr(seed, k, 2, 4)
    path = interpolation_path(keys, steps, mode)
    assert path.shape == ((k - 1) * steps + 1, 2, 4)
    np.testing.assert_array_equal(path[::steps], keys)
    np.testing.assert_array_equal(path[0], keys[0])
    np.testing.assert_array_equal(path[-1], keys[-1])
    assert bool(jnp.all(jnp.isfinite(path)))


@FAST
@given(st.integers(0, 2**31 - 1), st.sampled_from([2, 4]))
@pytest.mark.slow  # ~5 s of CPU (2026-12-02)
def test_path_frames_follow_segments(seed, steps):
    keys = arr(seed, 3, 1, 4)
    path = interpolation_path(keys, steps, "lerp")
    for s in range(2):
        for j in range(steps + 1):
            np.testing.assert_allclose(path[s * steps + j], lerp(keys[s], keys[s + 1], j / steps), atol=1e-6)
    zpath = interpolation_path(keys, steps, "slerp")
    np.testing.assert_allclose(unit(zpath[1]), slerp(keys[0], keys[1], 1 / steps), atol=1e-5)


def test_path_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        interpolation_path(arr(0, 2, 3), 2, "cubic")
    with pytest.raises(ValueError, match="steps"):
        interpolation_path(arr(0, 2, 3), 0)


# ---- layer groups (paper 003 Fig. 3) ------------------------------------------------------------


def test_layer_sets_1024():
    assert layer_set("coarse", 18) == (0, 1, 2, 3)
    assert layer_set("middle", 18) == (4, 5, 6, 7)
    assert layer_set("fine", 18) == tuple(range(8, 18))
    assert layer_set("all", 18) == tuple(range(18))
    assert layer_set("none", 18) == ()
    assert layer_set(("coarse", "fine"), 18) == (0, 1, 2, 3, *range(8, 18))


@pytest.mark.parametrize("arch", ["stylegan", "stylegan2"])
@pytest.mark.parametrize("res", [4, 8, 16, 32, 64, 256, 1024])
def test_layer_sets_partition_rows_for_both_archs(arch, res):
    log2 = res.bit_length() - 1
    cfg = GeneratorConfig(arch, res, z_dim=4, w_dim=4, channels=(4,) * (log2 - 1))
    n = cfg.num_ws
    groups = [set(layer_set(g, n)) for g in ("coarse", "middle", "fine")]
    assert set().union(*groups) == set(range(n))
    assert sum(len(g) for g in groups) == n
    res_of = ws_resolutions(n)
    assert all(4 <= res_of[i] <= 8 for i in groups[0]) and all(16 <= res_of[i] <= 32 for i in groups[1])
    assert all(res_of[i] >= 64 for i in groups[2])
    assert groups[0] == set(range(min(4, n)))  # coarse = rows 0-3 (fewer if the generator is tiny)


def test_layer_set_feeds_style_mix_and_rejects_unknowns():
    a, b = arr(0, 2, 8, 3), arr(1, 2, 8, 3)
    mixed = style_mix(a, b, layer_set("middle", 8))
    np.testing.assert_array_equal(mixed[:, 4:], b[:, 4:])
    np.testing.assert_array_equal(mixed[:, :4], a[:, :4])
    with pytest.raises(ValueError, match="unknown layer group"):
        layer_set("ultra", 8)
    with pytest.raises(ValueError, match="num_ws"):
        layer_set("all", 7)
