"""Attribute directions: every method against synthetic latents with a planted ground truth.

Latents are Gaussian with a non-zero mean (like W, unlike Z); labels / scores / values are
functions of the projection on a known unit direction, so each fit can be scored by its cosine
with the truth. Data stay small (<= 3000 x 32) to keep CPU time low.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.decomposition import PCA as SkPCA

from latentjax.directions import (
    Direction,
    condition,
    cv_scores,
    fit_linear_classifiers,
    fit_mlp,
    from_pca,
    load_direction,
    logistic_direction,
    mlp_logits,
    pca,
    predict,
    predict_proba,
    regression_direction,
    save_direction,
    svm_accuracy_split,
    svm_direction,
    to_pca,
    traverse,
)
from latentjax.directions.io import FORMAT
from latentjax.directions.linear import logistic_model
from latentjax.directions.nonlinear import MLPConfig

PROPS = settings(max_examples=20, deadline=None)


def planted(n=2000, d=16, seed=0, support=None):
    """latents [n, d] with a random mean, a unit truth [d] (+-1 on `support` only, if given), s = (x - mean) @ truth."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=d)
    x = rng.normal(size=(n, d)) + mean
    truth = rng.normal(size=d)
    if support is not None:  # equal magnitudes on the support, so every true entry is detectable
        truth = np.zeros(d)
        truth[support] = rng.choice([-1.0, 1.0], size=len(support))
    truth /= np.linalg.norm(truth)
    return x, truth, (x - mean) @ truth, rng


def cosine(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# ---- linear directions (sklearn) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "penalty, solver, C, standardize",
    [
        ("l1", "liblinear", 0.1, False),
        ("l1", "saga", 0.1, False),
        ("l2", "lbfgs", 1.0, False),
        ("l1", "liblinear", 0.1, True),
    ],
)
def test_logistic_direction_recovers_planted(penalty, solver, C, standardize):
    x, truth, s, rng = planted()
    labels = 3.0 * s + rng.logistic(size=len(s)) > 0
    fit = logistic_direction(x, labels, C=C, penalty=penalty, solver=solver, standardize=standardize)
    assert cosine(fit.direction, truth) > 0.9
    assert np.isclose(np.linalg.norm(fit.direction), 1.0)
    assert fit.train_accuracy > 0.78  # Bayes rate of this noise level is ~0.83
    assert fit.nonzero == np.count_nonzero(fit.coef) <= x.shape[1]
    # coef and intercept are for raw latents
    assert np.mean((x @ fit.coef + fit.intercept > 0) == labels) == pytest.approx(fit.train_accuracy)


def test_l1_is_sparse_when_truth_is_sparse():
    support = np.array([2, 7, 19])
    x, truth, s, rng = planted(d=32, support=support)
    labels = 4.0 * s + rng.logistic(size=len(s)) > 0
    l1 = logistic_direction(x, labels, C=0.01, penalty="l1")
    l2 = logistic_direction(x, labels, C=1.0, penalty="l2", solver="lbfgs")
    assert cosine(l1.direction, truth) > 0.9
    assert l1.nonzero <= 6 and set(support) <= set(np.flatnonzero(l1.coef))
    assert np.abs(l1.coef[support]).sum() > 0.9 * np.abs(l1.coef).sum()  # the stray entries are tiny
    assert l2.nonzero == 32  # L2 shrinks but never zeroes
    # paper 000 Fig. 10: stronger regularisation (smaller C) -> fewer edited entries
    assert logistic_direction(x, labels, C=0.003, penalty="l1").nonzero <= l1.nonzero


def test_svm_direction_recovers_planted_and_points_up():
    x, truth, s, rng = planted()
    scores = 1.0 / (1.0 + np.exp(-(2.0 * s + 0.3 * rng.normal(size=len(s)))))  # a classifier's probability
    fit = svm_direction(x, scores, fraction=0.1)
    assert fit.num_per_side == 200
    assert cosine(fit.direction, truth) > 0.9
    assert fit.val_accuracy > 0.95 and fit.train_accuracy > 0.95
    flipped = svm_direction(x, -scores, fraction=0.1)
    assert cosine(flipped.direction, fit.direction) < -0.95  # same boundary, normal reversed
    # the InterFaceGAN default (2% per side) on enough samples
    assert cosine(svm_direction(x, scores).direction, truth) > 0.9


@pytest.mark.parametrize("alpha, standardize", [(0.0, False), (50.0, False), (0.0, True)])
def test_regression_direction_recovers_planted(alpha, standardize):
    x, truth, s, rng = planted()
    values = 2.0 * s + 5.0 + rng.normal(size=len(s))
    fit = regression_direction(x, values, alpha=alpha, standardize=standardize)
    assert cosine(fit.direction, truth) > 0.95
    assert fit.r2 > 0.7
    np.testing.assert_allclose(x @ fit.coef + fit.intercept, values, atol=4.0)


def test_linear_directions_reject_bad_input():
    x, _, s, _ = planted(n=200)
    with pytest.raises(ValueError, match="both classes"):
        logistic_direction(x, np.ones(200, bool))
    with pytest.raises(ValueError, match=r"\[N, D\]"):
        logistic_direction(x[:, :, None], s > 0)
    with pytest.raises(ValueError, match="raise C"):
        logistic_direction(x, s > 0, C=1e-6)
    with pytest.raises(ValueError, match="liblinear"):
        logistic_direction(x, s > 0, penalty="l1", solver="lbfgs")
    with pytest.raises(ValueError, match="fraction"):
        svm_direction(x, s, fraction=0.002)
    with pytest.raises(ValueError, match="NaN"):
        regression_direction(x, np.where(s > 2, np.nan, s))


# ---- batched JAX fit vs the sklearn loop ----------------------------------------------------------


@pytest.fixture(scope="module")
def multi_attribute():
    """12 attributes, each a noisy linear function of a 16-d latent (some sparse); train and test splits."""
    rng = np.random.default_rng(3)
    n, d, a = 1500, 16, 12
    mean = rng.normal(size=d)
    w = rng.normal(size=(d, a)) * (rng.random((d, a)) < 0.4)
    w[0] += 1.0  # no all-zero column
    b = rng.normal(size=a)

    def sample(m):
        x = rng.normal(size=(m, d)) + mean
        return x.astype(np.float32), (x - mean) @ w + b + 0.7 * rng.logistic(size=(m, a)) > 0

    return (*sample(n), *sample(500), w)


@pytest.mark.parametrize(
    "kw, sk",
    [
        (dict(penalty="l2", C=1.0), ("l2", "lbfgs")),
        (dict(penalty="l2", C=1.0, optimizer="adam", batch_size=256, steps=1500), ("l2", "lbfgs")),
        (dict(penalty="l1", C=0.05), ("l1", "saga")),
    ],
    ids=["l2-lbfgs", "l2-adam-minibatch", "l1-fista"],
)
@pytest.mark.slow  # ~6 s of CPU (2026-12-02)
def test_batched_fit_agrees_with_sklearn_loop(multi_attribute, kw, sk):
    x, y, x_test, y_test, _ = multi_attribute
    fit = fit_linear_classifiers(x, y, **kw)
    assert fit.weights.shape == (16, 12) and fit.biases.shape == (12,) and fit.weights.dtype == jnp.float32
    ours_test = np.asarray(predict(fit.weights, fit.biases, x_test) == y_test).mean(axis=0)
    for a in range(y.shape[1]):
        model = logistic_model(kw["C"], *sk, max_iter=5000).fit(x, y[:, a])
        assert abs(float(fit.train_accuracy[a]) - model.score(x, y[:, a])) <= 0.01, a
        assert abs(ours_test[a] - model.score(x_test, y_test[:, a])) <= 0.01, a
        assert cosine(np.asarray(fit.weights[:, a]), model.coef_[0]) > 0.99, a


def test_batched_l1_zeros_and_predict(multi_attribute):
    x, y, x_test, _, w_true = multi_attribute
    fit = fit_linear_classifiers(x, y, penalty="l1", C=0.05)
    w = np.asarray(fit.weights)
    assert np.all(w[np.abs(w_true) > 1.0] != 0)  # strong true weights survive
    assert np.mean(w == 0) > 0.3  # exact zeros, where most true weights are zero
    p = np.asarray(predict_proba(fit.weights, fit.biases, x_test))
    labels = np.asarray(predict(fit.weights, fit.biases, x_test))
    assert p.shape == labels.shape == (500, 12) and labels.dtype == bool
    assert np.all((p > 0.5) == labels) and np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(np.linalg.norm(np.asarray(fit.directions), axis=1), 1.0, rtol=1e-5)


def test_batched_fit_rejects_bad_input(multi_attribute):
    x, y, *_ = multi_attribute
    with pytest.raises(ValueError, match="fista"):
        fit_linear_classifiers(x, y, penalty="l1", optimizer="adam")
    with pytest.raises(ValueError, match="bool"):
        fit_linear_classifiers(x, y.astype(np.float32))
    with pytest.raises(ValueError, match="adam"):
        fit_linear_classifiers(x, y, batch_size=64)
    with pytest.raises(ValueError, match=r"\[N, A\]"):
        fit_linear_classifiers(x, y[:10])


# ---- conditional directions -----------------------------------------------------------------------

unit_floats = st.floats(-1.0, 1.0, allow_nan=False, width=32)


@st.composite
def direction_and_others(draw):
    d = draw(st.integers(3, 12))
    k = draw(st.integers(1, min(3, d - 1)))
    m = draw(arrays(np.float64, (k + 1, d), elements=unit_floats))
    others = m[1:]
    s = np.linalg.svd(others, compute_uv=False)
    assume(s[-1] > 0.2 * s[0] and s[0] > 0.1)  # well-conditioned conditions
    q = np.linalg.qr(others.T)[0]
    residual = m[0] - q @ (q.T @ m[0])
    assume(np.linalg.norm(residual) > 0.2 * max(np.linalg.norm(m[0]), 0.5))  # not (almost) in their span
    return m[0], others, residual


@PROPS
@given(direction_and_others())
@pytest.mark.slow  # ~7 s of CPU (2026-12-02)
def test_condition_is_unit_and_orthogonal_to_conditions(case):
    d, others, _ = case
    c = np.asarray(condition(d, others))
    assert np.linalg.norm(c) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(others @ c / np.linalg.norm(others, axis=1), 0.0, atol=1e-4)
    assert np.dot(c, d) > 0  # still raises the primal attribute
    np.testing.assert_allclose(np.asarray(condition(c, others)), c, atol=1e-5)  # idempotent


@PROPS
@given(direction_and_others())
@pytest.mark.slow  # ~4 s of CPU (2026-12-02)
def test_condition_leaves_orthogonal_directions_alone(case):
    _, others, residual = case
    c = np.asarray(condition(residual, others))
    np.testing.assert_allclose(c, residual / np.linalg.norm(residual), atol=1e-5)


def test_condition_single_and_dependent_conditions():
    d = np.array([1.0, 1.0, 0.0])
    e0 = np.array([1.0, 0.0, 0.0])
    np.testing.assert_allclose(np.asarray(condition(d, e0)), [0.0, 1.0, 0.0], atol=1e-6)  # n1 - (n1.n2) n2
    # repeated / dependent conditions remove no more than their span
    np.testing.assert_allclose(np.asarray(condition(d, np.stack([e0, 2 * e0, -e0]))), [0.0, 1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(np.asarray(jax.jit(condition)(d, e0[None])), [0.0, 1.0, 0.0], atol=1e-6)
    with pytest.raises(ValueError, match="span"):
        condition(e0, np.stack([e0 + np.array([0, 1.0, 0]), np.array([0, 1.0, 0])]))
    with pytest.raises(ValueError, match=r"\[K, D\]"):
        condition(d, np.ones((2, 4)))


# ---- PCA ------------------------------------------------------------------------------------------


def test_pca_matches_sklearn():
    rng = np.random.default_rng(5)
    x = (rng.normal(size=(300, 10)) * np.linspace(3.0, 0.3, 10)) @ np.linalg.qr(rng.normal(size=(10, 10)))[0] + 2.0
    ours = pca(x, 4)
    ref = SkPCA(4, svd_solver="full").fit(x)
    assert ours.components.shape == (4, 10) and ours.explained_variance_ratio.shape == (4,)
    np.testing.assert_allclose(np.abs(np.sum(np.asarray(ours.components) * ref.components_, axis=1)), 1.0, atol=1e-4)
    np.testing.assert_allclose(np.asarray(ours.explained_variance_ratio), ref.explained_variance_ratio_, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(ours.explained_variance), ref.explained_variance_, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(ours.mean), ref.mean_, atol=1e-5)
    scores = np.asarray(to_pca(x, ours))
    signs = np.sign(np.sum(np.asarray(ours.components) * ref.components_, axis=1))
    np.testing.assert_allclose(scores * signs, ref.transform(x), atol=1e-3)
    full = pca(x, 10)  # all components: lossless, ratios sum to 1
    np.testing.assert_allclose(np.asarray(from_pca(to_pca(x, full), full)), x, atol=1e-3)
    assert float(full.explained_variance_ratio.sum()) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="k must be"):
        pca(x, 11)


# ---- separability scores ---------------------------------------------------------------------------


def test_cv_scores_separable_vs_random():
    x, _, s, rng = planted(n=400, d=8)
    labels = np.stack([s > 0.1, rng.random(400) < 0.5], axis=1)  # separable (margin-free but noise-free), random
    r = cv_scores(x, labels, folds=10, C=0.1)
    assert r.auc.shape == r.balanced_accuracy.shape == (2,)
    assert r.auc[0] > 0.97 and r.balanced_accuracy[0] > 0.9
    assert abs(r.auc[1] - 0.5) < 0.1 and abs(r.balanced_accuracy[1] - 0.5) < 0.1
    with pytest.raises(ValueError, match="single class"):
        cv_scores(x, np.zeros(400, bool))


def test_svm_accuracy_split_min_max_mean():
    x, _, s, rng = planted(n=600, d=8)
    labels = np.stack([s > 0, 2.0 * s + rng.logistic(size=600) > 0, rng.random(600) < 0.5], axis=1)
    r = svm_accuracy_split(x, labels, test_fraction=0.2)
    assert r.accuracy.shape == (3,)
    assert r.max == r.accuracy[0] > 0.95
    assert r.min == r.accuracy[2] < 0.65
    assert r.mean == pytest.approx(r.accuracy.mean())


# ---- file format ------------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False, allow_infinity=False), st.text()
)


@st.composite
def directions(draw):
    space = draw(st.sampled_from(["z", "w", "w+"]))
    d = draw(st.integers(1, 8))
    layers = None if space == "z" else draw(st.none() | st.lists(st.integers(0, 17), max_size=5).map(tuple))
    per_layer = space == "w+" and layers is not None and len(layers) > 0 and draw(st.booleans())
    shape = (len(layers), d) if per_layer else (d,)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    vector = draw(arrays(dtype, shape, elements=st.floats(-5, 5, allow_nan=False, width=32)))
    return Direction(
        vector,
        space,
        layers,
        method=draw(st.text(max_size=12)),
        attribute=draw(st.text(max_size=12)),
        hyperparameters=draw(st.dictionaries(st.text(max_size=6), json_scalars | st.lists(json_scalars), max_size=4)),
        metrics=draw(
            st.dictionaries(st.text(max_size=6), st.floats(allow_nan=False, allow_infinity=False), max_size=4)
        ),
    )


@PROPS
@given(directions())
def test_direction_save_load_round_trip(d):
    with tempfile.TemporaryDirectory() as tmp:
        path = save_direction(Path(tmp) / "d.npz", d)
        back = load_direction(path)
    assert back == d
    assert back.vector.dtype == d.vector.dtype and not back.vector.flags.writeable


def test_direction_metadata_is_canonical_json():
    d = Direction(np.ones(3), "w+", [0, 1, 2], "svm", "smile", {"fraction": 0.02, "pair": (1, 2)}, {"acc": 0.9})
    assert d.layers == (0, 1, 2) and d.hyperparameters == {"fraction": 0.02, "pair": [1, 2]}
    for kwargs, match in [
        (dict(vector=np.ones(3), space="x"), "space"),
        (dict(vector=np.ones(3), space="z", layers=(1,)), "layers"),
        (dict(vector=np.ones((2, 3)), space="w"), "w\\+"),
        (dict(vector=np.ones((2, 3)), space="w+", layers=(4,)), "layer rows"),
        (dict(vector=np.array([1.0, np.nan]), space="w"), "NaN"),
        (dict(vector=np.arange(3), space="w"), "float"),
        (dict(vector=np.ones(3), space="w", metrics={"auc": float("nan")}), "JSON"),
        (dict(vector=np.ones(3), space="w", hyperparameters={"f": object()}), "JSON"),
    ]:
        with pytest.raises(ValueError, match=match):
            Direction(**kwargs)


def _write_npy(path: Path, array: np.ndarray):
    with open(path, "wb") as f:  # np.save(path) would append ".npy" to the name
        np.save(f, array)


def _write_npz(path: Path, **arrays_):
    with open(path, "wb") as f:
        np.savez(f, **arrays_)


def _meta(**overrides) -> np.ndarray:
    meta = {
        "format": FORMAT,
        "space": "w",
        "layers": None,
        "method": "logistic",
        "attribute": "smile",
        "hyperparameters": {},
        "metrics": {},
    }
    meta.update(overrides)
    return np.array(json.dumps(meta))


@pytest.mark.parametrize(
    "write, match",
    [
        (lambda p: p.write_bytes(b"definitely not a zip"), "not a latentjax direction"),
        (lambda p: _write_npy(p, np.ones(3)), "not an .npz"),
        (lambda p: _write_npz(p, vector=np.ones(3)), "missing"),
        (lambda p: _write_npz(p, vector=np.array([{"x": 1}], dtype=object), metadata=_meta()), "pickle"),
        (lambda p: _write_npz(p, vector=np.ones(3), metadata=np.array("{not json")), "JSON"),
        (lambda p: _write_npz(p, vector=np.ones(3), metadata=np.frombuffer(b"{}", np.uint8)), "JSON string"),
        (lambda p: _write_npz(p, vector=np.ones(3), metadata=_meta(format="other/1")), "format"),
        (lambda p: _write_npz(p, vector=np.ones(3), metadata=_meta(space="q")), "space"),
        (lambda p: _write_npz(p, vector=np.ones(3), metadata=_meta(layers="0-3")), "layers"),
        (lambda p: _write_npz(p, vector=np.ones(3), metadata=_meta(layers=[True])), "layers"),
        (lambda p: _write_npz(p, vector=np.arange(3), metadata=_meta()), "float"),
    ],
    ids=[
        "garbage",
        "npy",
        "missing",
        "object-array",
        "bad-json",
        "bytes-meta",
        "format",
        "space",
        "layers",
        "bool-layers",
        "int-vector",
    ],
)
def test_load_direction_rejects_malformed_files(tmp_path, write, match):
    path = tmp_path / "bad.npz"
    write(path)
    with pytest.raises(ValueError, match=match):
        load_direction(path)


def test_load_direction_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_direction(tmp_path / "absent.npz")


# ---- nonlinear model and traversal (paper 004) -------------------------------------------------------


@pytest.mark.slow  # ~12 s of CPU (2026-12-02)
def test_mlp_traversal_reaches_a_nonlinear_attribute_a_linear_direction_cannot():
    """Attribute 0 is 'outside a sphere' (|z|^2 > median): not linearly separable, so logistic
    regression is at chance and its single direction fails from most start points; attribute 1
    (z_1 > 0) is linear and should stay put when traversal is constrained."""
    rng = np.random.default_rng(0)
    d, r2 = 8, 8 - 2 / 3  # chi^2_8 median

    def truth(z):
        return np.stack([np.sum(z**2, axis=-1) > r2, z[..., 1] > 0], axis=-1)

    z = rng.normal(size=(3000, d)).astype(np.float32)
    y = truth(z)
    fit = fit_mlp(z, y, MLPConfig(hidden=(32, 32), steps=1000, dropout=0.1))
    z_test = rng.normal(size=(500, d)).astype(np.float32)
    assert np.mean((np.asarray(mlp_logits(fit.params, z_test)) > 0) == truth(z_test), axis=0).min() > 0.9
    linear = logistic_direction(z, y[:, 0], C=1.0, penalty="l2", solver="lbfgs")
    assert linear.train_accuracy < 0.65  # the sphere is invisible to a linear classifier

    starts = z_test[~truth(z_test)[:, 0]][:50]
    free = traverse(fit.params, starts, 0, 0.95, steps=300, lr=0.05)
    kept = traverse(fit.params, starts, 0, 0.95, steps=300, lr=0.05, keep_others=10.0)
    assert kept.latents.shape == (301, 50, d) and kept.probabilities.shape == (301, 50, 2)
    end = np.asarray(kept.latents[-1])
    assert np.mean(np.asarray(kept.reached)) >= 0.85
    assert np.mean(truth(end)[:, 0]) >= 0.85  # the ground truth flips, not just the model

    # the linear edit with the same step length per start point
    step = np.linalg.norm(end - starts, axis=1, keepdims=True)
    assert np.mean(truth(starts + step * linear.direction)[:, 0]) <= 0.4

    # the constraint holds the other attribute's output
    def drift(t):
        return float(np.mean(np.abs(np.asarray(t.probabilities[-1, :, 1] - t.probabilities[0, :, 1]))))

    assert drift(kept) < 0.05 and drift(kept) < drift(free)
    assert np.mean(truth(end)[:, 1] == truth(starts)[:, 1]) >= 0.95

    one = traverse(fit.params, starts[0], 0, 0.95, steps=300, lr=0.05)
    assert one.latents.shape == (301, d) and one.probabilities.shape == (301, 2) and one.reached.shape == ()
    with pytest.raises(ValueError, match="target"):
        traverse(fit.params, starts[0], 0, 1.0)
