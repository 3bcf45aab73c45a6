"""Linear separability (NVIDIA's LS metric): entropy helper, confident half, both engines, input errors.

Synthetic latents only (N <= 4000, D <= 12), Gaussian with a non-zero mean like W; labels are
planted functions of the latents (or independent coins) so the expected score is known.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.svm import LinearSVC

from latentjax.errors import InputError
from latentjax.metrics import separability as sep_mod
from latentjax.metrics.separability import (
    SeparabilityResult,
    conditional_entropy,
    confident_subset,
    keep_count,
    linear_separability,
)

ENGINES = ["sklearn", "jax"]
LN2 = math.log(2.0)


def _sigmoid(s):
    return 1.0 / (1.0 + np.exp(-s))


@pytest.fixture(scope="module")
def gaussian_attributes():
    """latents [2000, 12] (mean 0.7), probs [2000, 5]: noise from none to heavy, imbalanced offsets."""
    rng = np.random.default_rng(0)
    n, d = 2000, 12
    x = rng.normal(size=(n, d)) + 0.7
    dirs = rng.normal(size=(d, 5))
    noise = np.array([0.0, 2.0, 4.0, 6.0, 10.0])
    offsets = np.array([0.0, 2.0, -3.0, 1.0, 4.0])  # imbalanced classes
    s = (x - 0.7) @ dirs + offsets + noise * rng.normal(size=(n, 5))
    return x.astype(np.float32), _sigmoid(s).astype(np.float32)


# --------------------------------------------------------------------------- conditional entropy

joints = arrays(np.float64, (2, 2), elements=st.floats(0.0, 1.0, allow_subnormal=False)).filter(
    lambda p: p.sum() > 1e-6
)


def _h(p) -> float:
    p = np.asarray(p, np.float64).ravel()
    p = p[p > 0] / p.sum()
    return float(-(p * np.log(p)).sum())


@settings(max_examples=200, deadline=None)
@given(joints)
def test_conditional_entropy_bounds_and_chain_rule(p):
    h = conditional_entropy(p)
    assert isinstance(h, float)
    assert -1e-12 <= h <= LN2 + 1e-12
    # chain rule, computed independently: H(Y|X) = H(X, Y) - H(X), X = rows
    assert h == pytest.approx(_h(p) - _h(p.sum(axis=1)), abs=1e-9)
    # counts and probabilities give the same value; rows (X's labels) can be renamed
    assert conditional_entropy(p * 1000.0) == pytest.approx(h, abs=1e-12)
    assert conditional_entropy(p[::-1]) == pytest.approx(h, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.floats(1e-3, 1.0), st.floats(1e-3, 1.0))
def test_conditional_entropy_zero_when_x_determines_y(a, b):
    assert conditional_entropy([[a, 0.0], [0.0, b]]) == 0.0
    assert conditional_entropy([[0.0, a], [b, 0.0]]) == 0.0
    assert conditional_entropy([[a, b], [0.0, 0.0]]) == pytest.approx(_h([a, b]))  # X constant: H(Y|X) = H(Y)


def test_conditional_entropy_uniform_and_batched():
    assert conditional_entropy(np.full((2, 2), 0.25)) == pytest.approx(LN2, abs=1e-15)
    batch = np.stack([np.full((2, 2), 0.25), np.eye(2)])
    np.testing.assert_allclose(conditional_entropy(batch), [LN2, 0.0], atol=1e-15)
    with pytest.raises(ValueError, match="non-negative"):
        conditional_entropy([[0.5, -0.1], [0.3, 0.3]])
    with pytest.raises(ValueError, match="positive sum"):
        conditional_entropy(np.zeros((2, 2)))


# --------------------------------------------------------------------------- confident half


def test_confident_subset_keeps_most_confident_half_stably():
    rng = np.random.default_rng(1)
    n = 101
    probs = np.round(rng.uniform(size=(n, 3)), 2)  # many exact ties in confidence
    idx = confident_subset(probs)
    assert idx.shape == (3, n // 2)
    conf = np.maximum(probs, 1.0 - probs)
    for a in range(3):
        kept = np.zeros(n, bool)
        kept[idx[a]] = True
        assert len(set(idx[a])) == n // 2
        cut = conf[idx[a], a].min()
        assert conf[kept, a].min() >= conf[~kept, a].max()  # the most confident
        # ties at the cut: stable sort keeps the earlier samples
        tied_kept, tied_dropped = (
            np.flatnonzero(kept & (conf[:, a] == cut)),
            np.flatnonzero(~kept & (conf[:, a] == cut)),
        )
        if len(tied_dropped):
            assert tied_kept.max() < tied_dropped.min()
        assert np.all(np.diff(conf[idx[a], a]) <= 0)  # most confident first


def test_confident_subset_bool_labels_and_fraction():
    labels = np.array([True, False, True, True, False, False, True, False, True])
    np.testing.assert_array_equal(confident_subset(labels), np.arange(4))  # all equally confident: first N // 2
    assert confident_subset(np.stack([labels, ~labels], 1), keep_fraction=1.0).shape == (2, 9)
    assert keep_count(100, 0.29) == 29 and keep_count(7) == 3


# --------------------------------------------------------------------------- scores with known answers


@pytest.mark.parametrize("engine", ENGINES)
def test_separable_labels_score_one(engine):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1200, 8)) + 0.5
    u = rng.normal(size=(8, 2))
    s = (x - 0.5) @ (u / np.linalg.norm(u, axis=0)) + np.array([0.3, -0.4])
    keep = np.all(np.abs(s) > 0.5, axis=1)  # margin
    x, s = x[keep], s[keep]
    probs = np.stack([(s[:, 0] > 0).astype(np.float64), _sigmoid(4.0 * s[:, 1])], axis=1)  # exact labels / probs
    r = linear_separability(x, probs, engine=engine, attributes=["hard", "soft"])
    assert isinstance(r, SeparabilityResult)
    assert r.score == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(r.entropies, 0.0, atol=1e-9)
    np.testing.assert_array_equal(r.svm_accuracy, 1.0)
    assert r.num_keep == len(x) // 2 and r.engine == engine and r.attributes == ("hard", "soft")
    assert not r.fallback.any()


@pytest.mark.parametrize("engine", ENGINES)
def test_independent_labels_score_two(engine):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4000, 8)) + 0.5
    labels = rng.uniform(size=(4000, 3)) < 0.5  # coins independent of x: the SVM learns ~nothing
    r = linear_separability(x, labels, engine=engine)
    np.testing.assert_allclose(r.per_attribute, 2.0, atol=0.05)
    assert r.score == pytest.approx(8.0, rel=0.07)
    assert np.all(r.svm_accuracy < 0.56)


@pytest.mark.parametrize("engine", ENGINES)
def test_single_class_uses_nvidia_perfect_prediction(engine, gaussian_attributes):
    x, probs = gaussian_attributes
    probs = probs[:, :2].copy()
    probs[:, 1] = 0.5 + 0.5 * probs[:, 1]  # all positive: LinearSVC cannot be fitted
    r = linear_separability(x, probs, engine=engine)
    np.testing.assert_array_equal(r.fallback, [False, True])
    assert r.entropies[1] == 0.0 and r.svm_accuracy[1] == 1.0 and not r.coef[1].any()
    assert r.score == pytest.approx(math.exp(r.entropies[0]))


def test_sklearn_engine_matches_literal_nvidia_loop(gaussian_attributes):
    """A transcription of NVIDIA's per-attribute loop (sorted by -max softmax, argmax, bits, 2 ** sum)."""
    x, probs = gaussian_attributes
    num_keep = len(x) // 2
    total_bits = 0.0
    for a in range(probs.shape[1]):
        result = np.stack([1.0 - probs[:, a].astype(np.float64), probs[:, a]], axis=1)
        kept = sorted(range(len(x)), key=lambda i: -np.max(result[i]))[:num_keep]
        targets = np.argmax(result[kept], axis=1)
        outputs = LinearSVC().fit(x[kept], targets).predict(x[kept])
        p = np.array([[np.mean((outputs == r) & (targets == c)) for c in (0, 1)] for r in (0, 1)])
        py = p.sum(axis=0)
        h_y = -sum(q * np.log2(q) for q in py if q > 0)
        mi = sum(p[r, c] * np.log2(p[r, c] / (p[r].sum() * py[c])) for r in (0, 1) for c in (0, 1) if p[r, c] > 0)
        total_bits += max(0.0, h_y - mi)
    r = linear_separability(x, probs, engine="sklearn")
    assert r.score == pytest.approx(2.0**total_bits, rel=1e-9)
    assert r.score == pytest.approx(2.0 ** r.entropies_bits.sum(), rel=1e-12)
    assert r.score == pytest.approx(np.prod(r.per_attribute), rel=1e-12)


@pytest.mark.parametrize("loss", ["squared_hinge", "logistic"])
@pytest.mark.slow  # compile- or render-heavy (judged from the code, 2026-12-02)
def test_jax_engine_agrees_with_sklearn(gaussian_attributes, loss):
    x, probs = gaussian_attributes
    ref = linear_separability(x, probs, engine="sklearn", loss=loss)
    tight = linear_separability(x, probs, engine="sklearn", loss=loss, tol=1e-9, max_iter=100_000)
    res = linear_separability(x, probs, engine="jax", loss=loss)
    assert res.score == pytest.approx(ref.score, rel=0.02)
    np.testing.assert_allclose(res.entropies, ref.entropies, atol=0.01)
    np.testing.assert_allclose(res.svm_accuracy, ref.svm_accuracy, atol=0.005)
    # same objective: same optimum (liblinear's regularised bias included), up to float32
    np.testing.assert_allclose(res.coef, tight.coef, rtol=0, atol=2e-3 * np.abs(tight.coef).max())
    np.testing.assert_allclose(res.intercept, tight.intercept, atol=2e-3 * np.abs(tight.coef).max())
    assert ref.entropies[0] == 0.0 and np.all(np.diff(ref.entropies) > 0)  # noise levels show in the entropies


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 2 * 4096 + 7), st.integers(1, 6), st.floats(0.0, 1.0))
def test_active_row_hessian_equals_the_full_masked_sum(seed, n, d, active):
    """The Newton Hessian summed over the rows with weight != 0 only (in blocks, gathered) is the
    plain sum over all rows, for any share of zero weights, either sign (the squared hinge's update
    subtracts the rows that left the margin) and N across block boundaries."""
    rng = np.random.default_rng(seed)
    xt = rng.normal(size=(n, d)).astype(np.float32)
    w = (rng.random(n) * (rng.random(n) < active) * rng.choice([-1.0, 1.0], n)).astype(np.float32)
    xt_pad = np.concatenate([xt, np.zeros((1, d), np.float32)])
    got = np.asarray(sep_mod._active_hessian(xt_pad, w), np.float64)
    ref = (xt.astype(np.float64) * w[:, None]).T @ xt.astype(np.float64)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * (np.abs(ref).max() + 1.0))


def test_jax_engine_active_rows_equals_all_rows(gaussian_attributes):
    """The single-device solver (Hessians over active rows) takes the same Newton steps as the
    all-rows form the multi-device path uses."""
    x, probs = gaussian_attributes
    xc = (x - x.mean(0)).astype(np.float32)
    idx = confident_subset(probs, 0.5)
    mask = np.zeros((probs.shape[1], x.shape[0]), np.float32)
    mask[np.arange(probs.shape[1])[:, None], idx] = 1.0
    signs = np.where(probs.T > 0.5, 1.0, -1.0).astype(np.float32)
    args = (xc, x.mean(0).astype(np.float32), signs, mask, np.float32(1.0), np.float32(1e-5))
    a = sep_mod._newton_fit(*args, loss="squared_hinge", max_iter=50, active_rows=True)
    b = sep_mod._newton_fit(*args, loss="squared_hinge", max_iter=50, active_rows=False)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(a[2], b[2])  # joint counts
    assert int(a[3]) == int(b[3])  # Newton steps


@pytest.mark.parametrize("loss", ["squared_hinge", "logistic"])
def test_jax_engine_warm_start_reaches_the_same_optimum(gaussian_attributes, monkeypatch, loss):
    """Large N first solves every _WARM_STRIDE-th row to a loose tolerance, then the full problem
    from there: the optimum (coefficients, predictions) is the cold start's."""
    x, probs = gaussian_attributes
    cold = linear_separability(x, probs, engine="jax", loss=loss)  # N = 2000: below the warm-start size
    monkeypatch.setattr(sep_mod, "_WARM_MIN_ROWS", 0)
    warm = linear_separability(x, probs, engine="jax", loss=loss)
    scale = np.abs(cold.coef).max()
    np.testing.assert_allclose(warm.coef, cold.coef, rtol=0, atol=2e-3 * scale)
    np.testing.assert_allclose(warm.intercept, cold.intercept, atol=2e-3 * scale)
    np.testing.assert_allclose(warm.svm_accuracy, cold.svm_accuracy, atol=2 / cold.num_keep)


# --------------------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    ("latents", "probs", "match"),
    [
        (np.full((8, 3), np.nan), np.full((8, 2), 0.9), "NaN"),
        (np.ones((8, 3)), np.array([[np.nan]] * 8), "NaN"),
        (np.ones((8, 3)), np.full((8, 2), np.inf), "NaN or inf"),
        (np.ones((8, 3)), np.full((7, 2), 0.9), "N = 8"),
        (np.ones((8, 4, 3)), np.full((8, 2), 0.9), r"\[N, D\]"),
        (np.ones((8, 3)), np.full((8, 2, 1), 0.9), r"\[N, A\]"),
        (np.ones((8, 3)), np.full((8, 2), 1.5), r"\[0, 1\]"),
        (np.ones((8, 3)), np.full((8, 2), -0.1), r"\[0, 1\]"),
        (np.ones((3, 3)), np.full((3, 2), 0.9), "N >= 4"),
        (np.ones((8, 3), np.complex64), np.full((8, 2), 0.9), "numeric"),
    ],
)
def test_bad_inputs(latents, probs, match):
    # InputError (a ValueError): the CLI prints it as one line, exit 2
    with pytest.raises(InputError, match=match):
        linear_separability(latents, probs)


def test_bad_options():
    x, p = np.random.default_rng(4).normal(size=(10, 3)), np.full((10, 2), 0.9)
    with pytest.raises(ValueError, match="engine"):
        linear_separability(x, p, engine="torch")
    with pytest.raises(ValueError, match="loss"):
        linear_separability(x, p, loss="hinge")
    with pytest.raises(ValueError, match="attribute names"):
        linear_separability(x, p, attributes=["only one"])
    with pytest.raises(ValueError, match="keep_fraction"):
        linear_separability(x, p, keep_fraction=0.0)
