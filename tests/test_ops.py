"""Property tests of the pure pieces: latent ops, norms, FIR / up-sampling, modulated conv."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latentjax.latent import broadcast_ws, style_mix, truncate
from latentjax.nets.stylegan import upscale_conv
from latentjax.ops.conv import conv3x3_taps, modulated_conv, upsample_conv2d_kernel
from latentjax.ops.fir import (
    blur,
    conv3x3_same,
    fir_conv_2x_out,
    phase_transposed_conv_2x,
    setup_filter,
    transposed_conv_2x,
    upfirdn2d,
    upsample_2x,
    upsample_conv_polyphase,
)
from latentjax.ops.norm import SQRT2, instance_norm, pixel_norm
from latentjax.seeds import parse_seeds, z_from_seed

DN = ("NHWC", "HWIO", "NHWC")
FAST = settings(max_examples=25, deadline=None)


def arr(seed, *shape, scale=1.0):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(np.float32) * scale)


# ---- latent operations ---------------------------------------------------------------------------

latent_case = st.tuples(st.integers(0, 2**31 - 1), st.integers(1, 4), st.integers(1, 10), st.integers(1, 6))


@FAST
@given(latent_case)
@pytest.mark.slow  # ~4 s of CPU (2026-12-02)
def test_truncation_psi_one_is_identity(case):
    seed, n, num_ws, dim = case
    ws, avg = arr(seed, n, num_ws, dim), arr(seed + 1, dim)
    for cutoff in (None, 0, num_ws // 2, num_ws):
        np.testing.assert_allclose(truncate(ws, avg, 1.0, cutoff), ws, rtol=0, atol=1e-6)


@FAST
@given(latent_case, st.floats(-1.5, 1.5, width=32), st.integers(0, 12))
@pytest.mark.slow  # ~5 s of CPU (2026-12-02)
def test_truncation_cutoff_keeps_later_layers(case, psi, cutoff):
    seed, n, num_ws, dim = case
    ws, avg = arr(seed, n, num_ws, dim), arr(seed + 1, dim)
    t = np.asarray(truncate(ws, avg, psi, cutoff))
    k = min(cutoff, num_ws)
    np.testing.assert_array_equal(t[:, k:], np.asarray(ws)[:, k:])
    np.testing.assert_allclose(t[:, :k], avg + psi * (np.asarray(ws)[:, :k] - avg), atol=1e-5)


@FAST
@given(latent_case)
@pytest.mark.slow  # ~6 s of CPU (2026-12-02)
def test_truncation_psi_zero_gives_average_and_none_means_all_layers(case):
    seed, n, num_ws, dim = case
    ws, avg = arr(seed, n, num_ws, dim), arr(seed + 1, dim)
    np.testing.assert_allclose(truncate(ws, avg, 0.0), jnp.broadcast_to(avg, ws.shape), atol=1e-6)
    np.testing.assert_array_equal(truncate(ws, avg, 0.3, None), truncate(ws, avg, 0.3, num_ws))


@FAST
@given(latent_case, st.integers(0, 10))
@pytest.mark.slow  # ~4 s of CPU (2026-12-02)
def test_style_mix_crossover_equals_layer_list(case, k):
    seed, n, num_ws, dim = case
    a, b = arr(seed, n, num_ws, dim), arr(seed + 1, n, num_ws, dim)
    m = np.asarray(style_mix(a, b, k))
    np.testing.assert_array_equal(m, style_mix(a, b, list(range(k, num_ws))))
    np.testing.assert_array_equal(m[:, :k], np.asarray(a)[:, :k])
    np.testing.assert_array_equal(m[:, k:], np.asarray(b)[:, k:])
    np.testing.assert_array_equal(style_mix(a, b, []), a)


def test_broadcast_ws_repeats_rows():
    w = arr(0, 3, 5)
    ws = broadcast_ws(w, 4)
    assert ws.shape == (3, 4, 5)
    for i in range(4):
        np.testing.assert_array_equal(ws[:, i], w)


# ---- normalisation --------------------------------------------------------------------------------


@FAST
@given(st.integers(0, 2**31 - 1), st.floats(0.5, 1e3))  # eps=1e-8 matters only at tiny rms
def test_pixel_norm_is_scale_invariant_with_unit_rms(seed, scale):
    x = arr(seed, 4, 16) + 0.1
    y = pixel_norm(x, axis=1)
    np.testing.assert_allclose(pixel_norm(x * scale, axis=1), y, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(jnp.sqrt(jnp.mean(y**2, axis=1)), 1.0, rtol=1e-4)


@FAST
@given(st.integers(0, 2**31 - 1), st.floats(0.1, 100.0), st.floats(-50.0, 50.0))
def test_instance_norm_removes_affine_per_channel(seed, scale, shift):
    x = arr(seed, 2, 6, 5, 3)
    y = instance_norm(x)
    np.testing.assert_allclose(jnp.mean(y, axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(instance_norm(x * scale + shift), y, atol=2e-3)


# ---- FIR filters and up-sampling ------------------------------------------------------------------


@FAST
@given(st.integers(0, 2**31 - 1), st.integers(1, 3), st.integers(2, 7))
@pytest.mark.slow  # ~11 s of CPU (2026-12-02)
def test_blur_equals_direct_convolution(seed, c, size):
    x = arr(seed, 2, size, size + 1, c)
    f = setup_filter([1, 2, 1])
    assert abs(float(f.sum()) - 1.0) < 1e-6
    xp = np.pad(np.asarray(x), ((0, 0), (1, 1), (1, 1), (0, 0)))
    direct = sum(f[a, b] * xp[:, a : a + size, b : b + size + 1] for a in range(3) for b in range(3))
    np.testing.assert_allclose(blur(x, [1, 2, 1]), direct, atol=1e-5)
    np.testing.assert_allclose(upfirdn2d(x, f, pad=(1, 1)), direct, atol=1e-5)  # symmetric f


@FAST
@given(st.integers(0, 2**31 - 1), st.integers(2, 6))
@pytest.mark.slow  # ~3 s of CPU (2026-12-02)
def test_fir_upsample_matches_reference_upfirdn(seed, size):
    x = arr(seed, 2, size, size, 3)
    f = np.random.default_rng(seed).random((4, 4)).astype(np.float32)  # asymmetric on purpose
    np.testing.assert_allclose(upsample_2x(x, f), upfirdn2d(x, f, up=2, pad=(2, 1)), atol=1e-5)


def test_fir_upsample_preserves_constants():
    x = jnp.ones((1, 4, 4, 2), jnp.float32) * 3.0
    y = upsample_2x(x, setup_filter([1, 3, 3, 1], gain=4.0))
    np.testing.assert_allclose(y[:, 2:-2, 2:-2], 3.0, rtol=1e-6)  # interior: gain 4 / 4 phases


@FAST
@given(st.integers(0, 2**31 - 1), st.sampled_from([(4, 1), (6, 2), (5, 2), (3, 1)]))
def test_polyphase_transposed_conv_equals_lax_transposed_conv(seed, geom):
    """y[n] = sum_i x[i] K[n - 2i + offset] computed directly with a zero-stuffed correlation."""
    length, offset = geom
    x, k = arr(seed, 2, 5, 4, 3), arr(seed + 1, length, length, 3, 2)
    # correlation of the zero-stuffed input with flipped K, padded so that output n aligns
    full = jax.lax.conv_general_dilated(
        x, k[::-1, ::-1], (1, 1), [(length - 1 - offset, offset + 1)] * 2, lhs_dilation=(2, 2), dimension_numbers=DN
    )
    np.testing.assert_allclose(transposed_conv_2x(x, k, offset), full, atol=1e-4)


@pytest.mark.parametrize("conv", [conv3x3_same, conv3x3_taps], ids=["custom_weight_grad", "nine_products"])
@settings(max_examples=12, deadline=None)  # each shape is one compile
@given(st.integers(0, 2**31 - 1), st.integers(1, 3), st.integers(1, 6), st.integers(1, 5), st.integers(1, 4))
def test_conv3x3_forms_values_and_gradients_equal_lax_conv(conv, seed, n, size, cin, cout):
    """Both 3x3 'SAME' forms are XLA's conv to float rounding, values and both gradients:
    `conv3x3_same` (custom weight gradient of shifted-view products), `conv3x3_taps` (nine products)."""
    x, k, dy = arr(seed, n, size, size + 1, cin), arr(seed + 1, 3, 3, cin, cout), arr(seed + 2, n, size, size + 1, cout)

    def lax_conv(x, k):
        return jax.lax.conv_general_dilated(x, k, (1, 1), ((1, 1), (1, 1)), dimension_numbers=DN)

    @jax.jit  # one compile per shape, not one per primitive
    def values_and_grads(x, k, dy):
        (y, vjp), (y_ref, vjp_ref) = jax.vjp(conv, x, k), jax.vjp(lax_conv, x, k)
        return (y, *vjp(dy)), (y_ref, *vjp_ref(dy))

    got, ref = values_and_grads(x, k, dy)
    np.testing.assert_allclose(got[0], ref[0], atol=1e-5)
    for g, g_ref in zip(got[1:], ref[1:]):
        assert g.dtype == g_ref.dtype and g.shape == g_ref.shape
        np.testing.assert_allclose(g, g_ref, rtol=1e-4, atol=1e-4)


@FAST
@given(st.integers(0, 2**31 - 1))
def test_fused_v1_upscale_equals_tf_conv2d_transpose_same(seed):
    """StyleGAN v1 fused path == TF conv2d_transpose(stride 2, SAME) of the summed 4x4 kernel."""
    x, w = arr(seed, 2, 4, 4, 3), arr(seed + 1, 3, 3, 3, 2)
    wg = w * (SQRT2 / np.sqrt(27))
    wp = jnp.pad(wg, ((1, 1), (1, 1), (0, 0), (0, 0)))
    w4 = wp[1:, 1:] + wp[:-1, 1:] + wp[1:, :-1] + wp[:-1, :-1]
    # TF SAME transposed conv = full transposed conv cropped by 1 at the start; as correlation:
    ref = jax.lax.conv_general_dilated(
        x, w4[::-1, ::-1], (1, 1), [(2, 2)] * 2, lhs_dilation=(2, 2), dimension_numbers=DN
    )
    np.testing.assert_allclose(upscale_conv(x, w, fused=True), ref, atol=1e-4)


@FAST
@given(st.integers(0, 2**31 - 1), st.booleans(), st.booleans())
@pytest.mark.slow  # ~8 s of CPU (2026-12-02)
def test_fused_and_unfused_modulated_conv_agree(seed, demodulate, up):
    x, w = arr(seed, 3, 4, 4, 5), arr(seed + 1, 3, 3, 5, 6)
    s = arr(seed + 2, 3, 5) + 1.0
    f = setup_filter([1, 3, 3, 1], gain=4.0)
    a = modulated_conv(x, w, s, demodulate=demodulate, up=up, resample_filter=f, fused=False)
    b = modulated_conv(x, w, s, demodulate=demodulate, up=up, resample_filter=f, fused=True)
    np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


@FAST
@given(st.integers(0, 2**31 - 1))
def test_demodulation_gives_unit_output_weights(seed):
    """After demodulation each output channel's effective weight has unit L2 norm (paper eq. 3)."""
    x, w, s = arr(seed, 1, 1, 1, 4), arr(seed + 1, 1, 1, 4, 3), arr(seed + 2, 1, 4)
    eye = jnp.eye(4, dtype=jnp.float32).reshape(4, 1, 1, 4)
    cols = jnp.stack([modulated_conv(e[None], w, s)[0, 0, 0] for e in eye])  # [I, O] effective weights
    np.testing.assert_allclose(jnp.sqrt(jnp.sum(cols**2, axis=0)), 1.0, rtol=1e-4)
    del x


def test_upsample_conv_kernel_matches_official_two_step_form():
    """transposed 3x3 conv with flipped weight, then FIR with pads (1, 1) (official upsample_conv_2d)."""
    x, w = arr(0, 2, 5, 5, 4), arr(1, 3, 3, 4, 6)
    f = setup_filter([1, 3, 3, 1], gain=4.0)
    y = jax.lax.conv_general_dilated(x, w, (1, 1), [(2, 2)] * 2, lhs_dilation=(2, 2), dimension_numbers=DN)
    ref = upfirdn2d(y, f, pad=(1, 1))
    k, off = upsample_conv2d_kernel(w, f)
    np.testing.assert_allclose(transposed_conv_2x(x, k, off), ref, atol=1e-4)


@pytest.mark.parametrize("geom", [(3, 0), (4, 1), (6, 2), (5, 2), (3, 1), (6, 1), (5, 3), (7, 3), (2, 0), (1, 0)])
@settings(max_examples=6, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 5), st.integers(-1, 2))
@pytest.mark.slow  # ~3 s of CPU (2026-12-02)
def test_sub_kernel_transposed_conv_equals_zero_stuffed_correlation(geom, seed, size, extra):
    """Polyphase sub-kernels (official MAC count) == the zero-stuffed transposed conv, any kernel
    length / offset (also those the single 3x3 sub-pixel form cannot take) and output length."""
    length, offset = geom
    out_len = max(2 * size + extra, 1)
    x, k = arr(seed, 2, size, size, 3), arr(seed + 1, length, length, 3, 2)
    pads = [(length - 1 - offset, out_len - 2 * size + offset + 1)] * 2
    ref = jax.lax.conv_general_dilated(x, k[::-1, ::-1], (1, 1), pads, lhs_dilation=(2, 2), dimension_numbers=DN)
    got = phase_transposed_conv_2x(x, k, offset, out_len)
    assert got.shape == ref.shape == (2, out_len, out_len, 2)
    np.testing.assert_allclose(got, ref, atol=1e-4)


# Shapes from a few sizes (odd, even, 1 pixel; channels 1 and >1): every new shape compiles the
# three forms and their gradients afresh (125 s of CPU with free shapes), the values vary per seed.
@settings(max_examples=12, deadline=None)
@given(
    st.integers(0, 2**31 - 1),
    st.sampled_from([1, 2, 5]),
    st.sampled_from([1, 3]),
    st.sampled_from([1, 2]),
    st.booleans(),
)
@pytest.mark.slow
def test_polyphase_upsample_conv_equals_subpixel_form_values_and_gradients(seed, size, cin, cout, symmetric):
    """The generator's up-conv (transposed conv at the official MAC count, then the FIR) gives the
    values and the gradients of the former sub-pixel form and of the official two-step form."""
    rng = np.random.default_rng(seed)
    taps = [1.0, 3.0, 3.0, 1.0] if symmetric else rng.random(4) + 0.1
    f = setup_filter(taps, gain=4.0)
    if not symmetric:  # separable but not symmetric: outer(t1, t2)
        f = (np.outer(rng.random(4) + 0.1, taps) * 4.0).astype(np.float32)
    x, w, dy = arr(seed, 2, size, size, cin), arr(seed + 1, 3, 3, cin, cout), arr(seed + 2, 2, 2 * size, 2 * size, cout)
    k, off = upsample_conv2d_kernel(w, f)
    y, vjp = jax.vjp(lambda x, w: upsample_conv_polyphase(x, w, f, off), x, w)
    y_ref, vjp_ref = jax.vjp(lambda x, w: transposed_conv_2x(x, *upsample_conv2d_kernel(w, f)), x, w)
    z = jax.lax.conv_general_dilated(x, w, (1, 1), [(2, 2)] * 2, lhs_dilation=(2, 2), dimension_numbers=DN)
    scale = float(np.abs(y_ref).max()) + 1.0
    np.testing.assert_allclose(y, y_ref, atol=1e-5 * scale)
    np.testing.assert_allclose(y, upfirdn2d(z, f, pad=(1, 1)), atol=1e-5 * scale)
    for g, g_ref in zip(vjp(dy), vjp_ref(dy)):
        np.testing.assert_allclose(g, g_ref, rtol=1e-4, atol=1e-4 * (float(np.abs(g_ref).max()) + 1.0))


def test_fir_after_transposed_conv_refuses_a_non_separable_filter():
    f = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    with pytest.raises(ValueError, match="separable"):
        fir_conv_2x_out(jnp.ones((1, 5, 5, 1)), f, 1, 4)


# ---- seeds --------------------------------------------------------------------------------------------


@FAST
@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 5)), min_size=1, max_size=5))
def test_parse_seeds_round_trip(ranges):
    spec = ",".join(f"{a}-{a + d}" if d else str(a) for a, d in ranges)
    assert parse_seeds(spec) == [s for a, d in ranges for s in range(a, a + d + 1)]


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 600))
def test_seed_to_z_is_nvidias_randomstate(seed, dim):
    np.testing.assert_array_equal(z_from_seed(seed, dim), np.random.RandomState(seed).randn(1, dim).astype(np.float32))
