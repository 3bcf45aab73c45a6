"""Toy faces: ground-truth factor map, labels, and the cartoon renderer.

Render calls use a few fixed batch shapes (8 faces, one face) so XLA compiles each path once.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from latentjax.toyfaces import ATTRIBUTES, FACTORS, Z_DIM, factors_of, labels_from_factors, labels_of, render, sample_z
from latentjax.toyfaces.factors import (
    FACTOR_SPECS,
    NUM_USED,
    ROTATION,
    attribute_factor,
    attribute_threshold,
)
from latentjax.toyfaces.preview import NEUTRAL, contact_sheet, sweep_factors

F = len(FACTORS)
B = 8  # the one batch size render is called with
PROPS = settings(max_examples=25, deadline=None)

finite = st.floats(-6.0, 6.0, allow_nan=False, width=32)
z_batches = arrays(np.float32, (16, Z_DIM), elements=finite)
any_factors = arrays(np.float32, (B, F), elements=st.floats(-3.0, 3.0, allow_nan=False, width=32))


def idx(name: str) -> int:
    return FACTORS.index(name)


@pytest.fixture(scope="module")
def big():
    """100k samples of z ~ N(0, I): factors and labels as numpy."""
    z = sample_z(0, 100_000)
    f = np.asarray(factors_of(z))
    return f, {k: np.asarray(v) for k, v in labels_of(z).items()}


@pytest.fixture(scope="module")
def faces():
    return factors_of(sample_z(123, B))


def neutral() -> np.ndarray:
    """A mid-range face: every continuous factor in its interior, switches off."""
    return np.array([NEUTRAL.get(n, 0.0) for n in FACTORS], np.float32)


def render_np(f: np.ndarray) -> np.ndarray:
    """Render any number of faces through the fixed batch-of-8 path."""
    f = np.asarray(f, np.float32)
    pad = -len(f) % B
    f = np.concatenate([f, np.zeros((pad, F), np.float32)])
    out = np.concatenate([np.asarray(render(f[i : i + B])) for i in range(0, len(f), B)])
    return out[: len(out) - pad]


# --- tables -------------------------------------------------------------------------------------------


def test_tables():
    assert Z_DIM == 64
    assert len(FACTORS) >= 10 and len(set(FACTORS)) == len(FACTORS)
    assert [s.name for s in FACTOR_SPECS] == list(FACTORS)
    for s in FACTOR_SPECS:
        assert s.lo < s.hi and s.doc and s.kind in {"continuous", "signed", "switch", "cyclic"}
    for must in ("smile", "eyeglasses", "beard", "hair_length", "grey", "skin_tone", "head_yaw", "lighting"):
        assert must in FACTORS
    assert len(ATTRIBUTES) >= 6 and len(set(ATTRIBUTES)) == len(ATTRIBUTES)
    assert FACTORS[attribute_factor("long_hair")] == "hair_length"
    assert FACTORS[attribute_factor("beard")] == "beard"
    with pytest.raises(KeyError, match="unknown attribute"):
        attribute_factor("moustache")
    np.testing.assert_allclose(ROTATION @ ROTATION.T, np.eye(Z_DIM), atol=2e-5)


def test_sample_z():
    z = sample_z(5, 7)
    assert z.shape == (7, Z_DIM) and z.dtype == jnp.float32
    np.testing.assert_array_equal(z, sample_z(jax.random.key(5), 7))
    assert not np.array_equal(z, sample_z(6, 7))
    with pytest.raises(ValueError, match="non-negative int"):
        sample_z(0, -1)


# --- factor map (properties) ------------------------------------------------------------------------------


@PROPS
@given(z_batches)
def test_factors_in_documented_ranges(z):
    f = np.asarray(factors_of(z))
    assert f.shape == (16, F) and f.dtype == np.float32 and np.isfinite(f).all()
    for i, s in enumerate(FACTOR_SPECS):
        assert (f[:, i] >= s.lo).all() and (f[:, i] <= s.hi).all(), s.name
        if s.kind == "switch":
            assert set(np.unique(f[:, i])) <= {0.0, 1.0}, s.name
        if s.kind == "cyclic":
            assert (f[:, i] < 1.0).all(), s.name


@PROPS
@given(z_batches)
def test_factors_deterministic_and_batch_invariant(z):
    f = np.asarray(factors_of(z))
    np.testing.assert_array_equal(f, factors_of(z))  # bitwise, call to call
    # A row does not depend on its batch, up to last-bit rounding (XLA vectorises a batch's tail differently).
    np.testing.assert_allclose(factors_of(z[:5]), f[:5], rtol=0, atol=1e-6)
    np.testing.assert_allclose(factors_of(z[3]), f[3], rtol=0, atol=1e-6)


def test_factors_jit_vmap_and_op_by_op():
    z = sample_z(11, 16) * 2.0
    f = np.asarray(factors_of(z))
    np.testing.assert_array_equal(f, jax.jit(factors_of)(z))  # jit of the public function: same program
    np.testing.assert_array_equal(f, jax.vmap(factors_of)(z))
    with jax.disable_jit():  # op-by-op: XLA's fused kernels may contract a*b+c into one FMA (last-bit rounding)
        np.testing.assert_allclose(factors_of(z), f, rtol=0, atol=1e-5)


@PROPS
@given(z_batches)
def test_labels_are_exact_thresholds(z):
    f = np.asarray(factors_of(z))
    labels = labels_of(z)
    assert list(labels) == list(ATTRIBUTES)
    for a in ATTRIBUTES:
        assert labels[a].dtype == jnp.bool_ and labels[a].shape == (16,)
        np.testing.assert_array_equal(labels[a], f[:, attribute_factor(a)] > attribute_threshold(a))
        np.testing.assert_array_equal(labels[a], labels_from_factors(f)[a])
    assert not (np.asarray(labels["beard"]) & np.asarray(labels["long_hair"])).any()


@PROPS
@given(st.integers(0, 2**31 - 1), st.integers(NUM_USED, Z_DIM - 1), st.floats(-3.0, 3.0, width=32))
def test_nuisance_directions_change_nothing(seed, k, c):
    """Moving z along a rotated direction that no factor reads leaves the factors unchanged up to rounding.

    (z ~ N(0, I), not arbitrary z: background_hue is an angle, undefined where its two inputs are both 0.)
    """
    z = np.asarray(sample_z(seed, 16))
    moved = z + np.float32(c) * ROTATION[:, k][None, :]
    np.testing.assert_allclose(factors_of(moved), factors_of(z), rtol=0, atol=2e-5)


def test_single_latent_matches_batch():
    z = sample_z(9, 16)
    np.testing.assert_allclose(factors_of(z[2]), factors_of(z)[2], rtol=0, atol=1e-6)
    assert {k: bool(v) for k, v in labels_of(z[2]).items()} == {k: bool(v[2]) for k, v in labels_of(z).items()}


# --- the factor distribution: frequencies, missing combination, correlations ----------------------------


def test_attribute_frequencies(big):
    _, labels = big
    for a in ATTRIBUTES:
        assert 0.1 <= labels[a].mean() <= 0.9, (a, labels[a].mean())


def test_missing_combination_beard_never_with_long_hair(big):
    f, labels = big
    assert labels["beard"].mean() > 0.1 and labels["long_hair"].mean() > 0.1
    assert not (labels["beard"] & labels["long_hair"]).any()
    assert (f[f[:, idx("beard")] == 1.0, idx("hair_length")] < 0.5).all()


def test_switches_exact(big):
    f, _ = big
    for name in ("eyeglasses", "beard"):
        assert set(np.unique(f[:, idx(name)])) == {0.0, 1.0}


def test_correlations(big):
    f, _ = big

    def corr(a, b):
        return np.corrcoef(f[:, idx(a)], f[:, idx(b)])[0, 1]

    assert corr("grey", "beard") > 0.1  # age -> grey and (via maleness) beards
    assert corr("grey", "hair_length") < -0.1  # older -> shorter hair
    assert corr("grey", "eyeglasses") > 0.1  # older -> glasses
    assert corr("skin_tone", "hair_color") < -0.2  # darker skin -> darker hair
    assert corr("smile", "mouth_open") > 0.1
    assert abs(corr("background_hue", "smile")) < 0.02  # unrelated factors stay independent


def test_boundaries_are_curved():
    """The smile boundary is not a hyperplane in z: moving along one direction flips it twice."""
    u1 = ROTATION[:, 1]  # smile depends on u1 quadratically
    t = np.linspace(-4, 4, 16, dtype=np.float32)
    z = t[:, None] * u1[None, :]
    smiling = np.asarray(labels_of(z)["smiling"])
    assert smiling[0] and smiling[-1] and not smiling[7] and not smiling[8]


# --- renderer -----------------------------------------------------------------------------------------


def test_render_shape_dtype_range(faces):
    img = render(faces)
    assert img.shape == (B, 64, 64, 3) and img.dtype == jnp.float32
    img = np.asarray(img)
    assert np.isfinite(img).all() and img.min() >= -1.0 and img.max() <= 1.0
    assert img.std() > 0.2  # not blank
    assert render(faces[0]).shape == (64, 64, 3)


@settings(max_examples=10, deadline=None)
@given(any_factors)
def test_render_any_factors_finite_in_range(f):
    img = np.asarray(render(f))
    assert np.isfinite(img).all() and img.min() >= -1.0 and img.max() <= 1.0


def test_render_deterministic_and_op_by_op_equal(faces):
    img = np.asarray(render(faces))
    np.testing.assert_array_equal(img, render(faces))
    np.testing.assert_array_equal(img, render(np.asarray(faces, np.float64)))
    with jax.disable_jit():  # op-by-op: last-bit rounding may differ from the fused program
        np.testing.assert_allclose(render(faces[3]), img[3], rtol=0, atol=2e-5)


def test_vmap_of_single_equals_batch(faces):
    img = np.asarray(render(faces))
    np.testing.assert_allclose(jax.vmap(render)(faces), img, rtol=0, atol=2e-5)
    np.testing.assert_allclose(render(faces[5]), img[5], rtol=0, atol=2e-5)


def test_every_factor_changes_the_image():
    base = neutral()
    rows = [base]
    for i, s in enumerate(FACTOR_SPECS):
        r = base.copy()
        r[i] = 1.0 if s.kind == "switch" else base[i] + 0.3 * (s.hi - s.lo)
        rows.append(r)
    img = render_np(np.stack(rows))
    for i, name in enumerate(FACTORS):
        diff = np.abs(img[i + 1] - img[0])
        assert diff.max() > 0.2 and diff.mean() > 2e-3, (name, diff.max(), diff.mean())


def test_attributes_act_in_their_regions():
    """Glasses change the eye band, beards the lower face, smiles the mouth; the background stays."""
    base = neutral()
    on = {name: base.copy() for name in ("eyeglasses", "beard", "smile")}
    on["eyeglasses"][idx("eyeglasses")] = 1.0
    on["beard"][idx("beard")] = 1.0
    on["smile"][idx("smile")] = 1.0
    img = render_np(np.stack([base, *on.values()]))
    rows = {name: np.abs(img[k + 1] - img[0]).max(axis=(1, 2)) for k, name in enumerate(on)}
    corners = [np.abs(img[k + 1] - img[0])[:6, :6].max() for k in range(len(on))]
    assert max(corners) == 0.0
    assert rows["eyeglasses"][26:33].max() > 0.5 and rows["eyeglasses"][40:].max() < 0.05
    assert rows["beard"][38:52].max() > 0.5 and rows["beard"][:25].max() < 0.05
    assert rows["smile"][36:46].max() > 0.5 and rows["smile"][:32].max() < 0.05


@pytest.mark.parametrize(
    "fn, bad, match",
    [
        (render, np.zeros((B, F - 1), np.float32), r"render: expected factors of shape \[N, 13\]"),
        (render, np.zeros((2, 3, F), np.float32), "got shape \\(2, 3, 13\\)"),
        (render, np.zeros((B, F), bool), "real-valued"),
        (factors_of, np.zeros((4, Z_DIM + 1), np.float32), r"factors_of: expected latents z of shape \[N, 64\]"),
        (factors_of, np.float32(0.0), r"got shape \(\)"),
        (labels_of, np.zeros((4, 3), np.float32), "factors_of"),
        (labels_from_factors, np.zeros((4, Z_DIM), np.float32), "labels_from_factors"),
    ],
)
def test_bad_shapes_raise(fn, bad, match):
    with pytest.raises(ValueError, match=match):
        fn(bad)


def test_preview_helpers():
    sweep = sweep_factors(steps=4)
    assert sweep.shape == (4 * F, F)
    assert (sweep[4 * idx("beard") : 4 * idx("beard") + 4, idx("beard")] == [0, 0, 1, 1]).all()
    sheet = contact_sheet(np.zeros((3, 64, 64, 3), np.float32), cols=2, scale=2)
    assert sheet.size == (2 * 66 * 2, 2 * 66 * 2)
