"""DCI (E&W 2018; paper 002 Table 1): hand-built importance matrices, properties, end to end, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from latentjax.metrics.dci import (
    DCIResult,
    completeness,
    completeness_per_factor,
    dci,
    disentanglement,
    disentanglement_per_code,
    importance_matrix,
)

FAST = settings(max_examples=40, deadline=None)


def both(R, weighting="mean"):
    return disentanglement(R), completeness(R, weighting)


# ------------------------------------------------------------------------------------ hand-built matrices


@pytest.mark.parametrize("weighting", ["mean", "factor"])
def test_diagonal_square_and_tall_are_perfect(weighting):
    assert both(np.diag([1.0, 2.0, 0.5]), weighting) == pytest.approx((1.0, 1.0))
    tall = np.zeros((5, 3))  # D > K: two unused codes (zero rows) change neither score
    tall[[0, 2, 4], [0, 1, 2]] = [1.0, 3.0, 0.2]
    assert both(tall, weighting) == pytest.approx((1.0, 1.0))
    np.testing.assert_allclose(disentanglement_per_code(tall), [1, 0, 1, 0, 1])  # unused codes score 0


def test_one_code_two_factors():
    # code 0 carries both factors: P_0. = (1/2, 1/2), H_2 = 1 -> D_0 = 0, and rho = (1, 0) -> D = 0.
    # each factor is captured by code 0 alone: P_.k = (1, 0), H_2 = 0 -> C_k = 1 -> C = 1.
    R = [[1.0, 1.0], [0.0, 0.0]]
    for w in ("mean", "factor"):
        assert both(R, w) == pytest.approx((0.0, 1.0))


@pytest.mark.parametrize("shape", [(2, 2), (4, 3), (3, 5)])
def test_uniform_is_zero(shape):
    assert both(np.full(shape, 0.7)) == pytest.approx((0.0, 0.0), abs=1e-12)


def test_permutation_matrix_is_perfect():
    R = np.eye(4)[[2, 0, 3, 1]]
    assert both(R) == pytest.approx((1.0, 1.0))
    assert both(R, "factor") == pytest.approx((1.0, 1.0))


def test_hand_computed_case():
    # R = [[2, 1], [0, 3]], sum R = 6.
    # Disentanglement (base K = 2):
    #   code 0: P = (2/3, 1/3), H_2 = -(2/3 log2 2/3 + 1/3 log2 1/3) = 0.9182958 -> D_0 = 0.0817042
    #   code 1: P = (0, 1), H_2 = 0 -> D_1 = 1
    #   rho = (3/6, 3/6) -> D = 0.5 * 0.0817042 + 0.5 * 1 = 0.5408521
    # Completeness (base D = 2):
    #   factor 0: column (2, 0) -> P = (1, 0), C_0 = 1
    #   factor 1: column (1, 3) -> P = (1/4, 3/4), H_2 = 0.25 * 2 + 0.75 * 0.4150375 = 0.8112781 -> C_1 = 0.1887219
    #   "mean":   (1 + 0.1887219) / 2 = 0.5943609
    #   "factor": weights (2/6, 4/6) -> 1/3 * 1 + 2/3 * 0.1887219 = 0.4591479
    R = np.array([[2.0, 1.0], [0.0, 3.0]])
    np.testing.assert_allclose(disentanglement_per_code(R), [0.0817042, 1.0], atol=1e-7)
    np.testing.assert_allclose(completeness_per_factor(R), [1.0, 0.1887219], atol=1e-7)
    assert disentanglement(R) == pytest.approx(0.5408521, abs=1e-7)
    assert completeness(R) == pytest.approx(0.5943609, abs=1e-7)  # default: E&W's plain mean
    assert completeness(R, "factor") == pytest.approx(0.4591479, abs=1e-7)  # disentanglement_lib


def test_edge_cases_never_nan():
    # all-zero R: nothing predicts anything -> 0 (disentanglement_lib's "uniform ones" gives 0 too)
    for w in ("mean", "factor"):
        assert both(np.zeros((3, 2)), w) == (0.0, 0.0)
    # K = 1: a used code captures at most one factor trivially -> 1; an unused code -> 0
    np.testing.assert_allclose(disentanglement_per_code([[2.0], [0.0], [1.0]]), [1, 0, 1])
    assert disentanglement([[2.0], [0.0], [1.0]]) == 1.0
    # ... while C still uses base D = 3: P = (2/3, 0, 1/3), H_3 = 0.9182958 / log2(3) = 0.5793802 -> C = 0.4206198
    assert completeness([[2.0], [0.0], [1.0]]) == pytest.approx(0.4206198, abs=1e-7)
    # D = 1: the one code captures every factor it predicts -> C_k = 1; a factor it ignores -> 0
    np.testing.assert_allclose(completeness_per_factor([[1.0, 0.0, 3.0]]), [1, 0, 1])
    assert disentanglement([[1.0, 1.0]]) == 0.0
    assert both([[0.0]]) == (0.0, 0.0)
    assert both([[5.0]]) == (1.0, 1.0)
    for R in ([[0.0]], [[0.0, 0.0]], [[0.0], [0.0]], [[1e-300, 0.0], [0.0, 1e-300]]):
        vals = [*both(R), *both(R, "factor"), *disentanglement_per_code(R), *completeness_per_factor(R)]
        assert np.isfinite(vals).all()


# ---------------------------------------------------------------------------------------------- properties

entries = st.one_of(st.just(0.0), st.floats(0.0, 10.0, allow_subnormal=False))


@st.composite
def importance(draw, min_side=1):
    d = draw(st.integers(min_side, 6))
    k = draw(st.integers(min_side, 6))
    return draw(hnp.arrays(np.float64, (d, k), elements=entries))


def all_scores(R):
    return np.array([disentanglement(R), completeness(R), completeness(R, "factor")])


@FAST
@given(importance())
def test_scores_in_unit_interval(R):
    for v in (all_scores(R), disentanglement_per_code(R), completeness_per_factor(R)):
        assert np.isfinite(v).all() and (v >= 0).all() and (v <= 1).all()


@FAST
@given(importance(), st.randoms(use_true_random=False))
def test_invariant_to_permuting_codes_and_factors(R, rnd):
    rows = list(range(R.shape[0]))
    cols = list(range(R.shape[1]))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    P = R[rows][:, cols]
    np.testing.assert_allclose(all_scores(P), all_scores(R), atol=1e-12)
    np.testing.assert_allclose(disentanglement_per_code(P), disentanglement_per_code(R)[rows], atol=1e-12)
    np.testing.assert_allclose(completeness_per_factor(P), completeness_per_factor(R)[cols], atol=1e-12)


@FAST
@given(importance(), st.floats(1e-3, 1e3))
def test_invariant_to_positive_scaling(R, c):
    np.testing.assert_allclose(all_scores(c * R), all_scores(R), atol=1e-10)


@FAST
@given(importance(), st.data())
def test_zero_importance_code(R, data):
    # An unused code has rho = 0 and H(P_.k) gains a 0 log 0 = 0 term: D, every code's D_d and every factor's
    # entropy are unchanged. C_k = 1 - H / log D is normalised by the code count, so adding a code can only
    # raise C (by E&W's and disentanglement_lib's definition); it is unchanged where C_k was 1 or 0.
    at = data.draw(st.integers(0, R.shape[0]))
    Z = np.insert(R, at, 0.0, axis=0)
    assert disentanglement(Z) == pytest.approx(disentanglement(R), abs=1e-12)
    np.testing.assert_allclose(np.delete(disentanglement_per_code(Z), at), disentanglement_per_code(R), atol=1e-12)
    before, after = completeness_per_factor(R), completeness_per_factor(Z)
    assert (after >= before - 1e-12).all()
    fixed = (before > 1 - 1e-12) | (R.sum(axis=0) == 0)
    np.testing.assert_allclose(after[fixed], before[fixed], atol=1e-12)
    if R.shape[0] > 1:  # entropies themselves are unchanged: rescale by the log-base ratio
        ratio = np.log(R.shape[0]) / np.log(R.shape[0] + 1)
        used = R.sum(axis=0) > 0
        np.testing.assert_allclose(1 - after[used], (1 - before[used]) * ratio, atol=1e-12)


# ---------------------------------------------------------------------------------------------- end to end


def _world(n=1000, k=3, noise_cols=2, seed=0):
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(n, k))
    return rng, factors, rng.normal(size=(n, noise_cols))


def test_identity_codes_are_disentangled():
    rng, f, noise = _world()
    r = dci(np.concatenate([f, noise], axis=1), f)
    assert isinstance(r, DCIResult) and r.method == "lasso"
    assert r.disentanglement > 0.95 and r.completeness > 0.95 and r.informativeness > 0.95
    assert r.prediction_error == pytest.approx(1 - r.informativeness)
    assert r.importance.shape == (5, 3) and r.per_code.shape == (5,) and r.per_factor.shape == (3,)
    assert r.importance.dtype == np.float64 and (r.importance >= 0).all()
    assert r.informativeness_per_factor.shape == (3,) and not r.discrete.any()
    # Lasso(0.05) on standardised codes and factors: the matching code gets ~1 - alpha, the rest exactly 0
    np.testing.assert_allclose(r.importance[:3], 0.95 * np.eye(3), atol=0.02)
    np.testing.assert_array_equal(r.importance[3:], 0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.disentanglement = 0.0


def test_rotation_lowers_disentanglement_not_informativeness():
    rng, f, noise = _world()
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    ident = dci(np.concatenate([f, noise], axis=1), f)
    rot = dci(np.concatenate([f @ q, noise], axis=1), f)
    assert rot.disentanglement < ident.disentanglement - 0.3
    assert rot.completeness < ident.completeness - 0.3
    assert rot.informativeness > 0.95  # a rotation loses no information, only its alignment


def test_standardisation_makes_code_scale_irrelevant():
    rng, f, noise = _world()
    codes = np.concatenate([f, noise], axis=1)
    a = dci(codes, f)
    b = dci(codes * np.array([100.0, 0.01, 3.0, 50.0, 1e-3]) + 7.0, f * np.array([1e3, 1.0, 1e-2]))
    np.testing.assert_allclose(b.importance, a.importance, atol=1e-8)
    assert b.disentanglement == pytest.approx(a.disentanglement)


def test_noise_codes_are_uninformative():
    rng, f, noise = _world()
    r = dci(rng.normal(size=(1000, 5)), f)
    assert r.informativeness < 0.05  # R^2 clipped at 0: the predictors do no better than the mean
    labels = f > 0
    r = dci(rng.normal(size=(1000, 5)), labels)  # balanced bool labels: chance accuracy ~ 0.5
    assert r.discrete.all() and r.informativeness < 0.6


def test_bool_labels_lasso_as_paper_002():
    rng = np.random.default_rng(1)
    labels = rng.random((600, 4)) < np.array([0.5, 0.3, 0.7, 0.2])
    codes = np.concatenate([labels + 0.1 * rng.normal(size=labels.shape), rng.normal(size=(600, 3))], axis=1)
    r = dci(codes, labels, alpha=0.05)
    assert r.discrete.all()
    assert r.informativeness > 0.98  # held-out accuracy of the Lasso prediction thresholded at 0.5
    assert r.disentanglement > 0.95 and r.completeness > 0.95
    R, info = importance_matrix(codes, labels)
    np.testing.assert_array_equal(R, r.importance)
    np.testing.assert_array_equal(info, r.informativeness_per_factor)


def test_integer_classes_and_discrete_override():
    rng = np.random.default_rng(2)
    classes = rng.integers(0, 4, size=(400, 2))
    codes = np.concatenate([classes + 0.05 * rng.normal(size=classes.shape), rng.normal(size=(400, 1))], axis=1)
    r = dci(codes, classes)  # integers: discrete, Lasso prediction snapped to the nearest class
    assert r.discrete.all() and r.informativeness > 0.95
    r2 = dci(codes, classes, discrete=False)  # override: scored as regression (R^2)
    assert not r2.discrete.any() and r2.informativeness > 0.95
    np.testing.assert_array_equal(r2.importance, r.importance)  # the fit itself does not depend on the scoring


def test_gbt_runs_on_both_factor_kinds():
    rng = np.random.default_rng(3)
    labels = rng.random((150, 2)) < 0.5
    codes = np.concatenate([labels + 0.1 * rng.normal(size=labels.shape), rng.normal(size=(150, 2))], axis=1)
    r = dci(codes, labels, method="gbt", n_estimators=30)
    assert r.method == "gbt" and r.discrete.all()
    assert r.informativeness > 0.95 and r.disentanglement > 0.9 and r.completeness > 0.9
    np.testing.assert_allclose(r.importance.sum(axis=0), 1.0)  # feature_importances_ are normalised per factor
    # with columns summing to 1, the two completeness weightings agree
    assert completeness(r.importance, "factor") == pytest.approx(completeness(r.importance, "mean"))
    f = rng.normal(size=(150, 2))
    r = dci(np.concatenate([f, rng.normal(size=(150, 1))], axis=1), f, method="gbt", n_estimators=30)
    assert not r.discrete.any() and r.informativeness > 0.8 and r.disentanglement > 0.8


def test_seeded_split_is_deterministic():
    rng, f, noise = _world(n=300)
    codes = np.concatenate([f + 0.5 * noise[:, :1], noise], axis=1)
    a, b = dci(codes, f, seed=5), dci(codes, f, seed=5)
    np.testing.assert_array_equal(a.importance, b.importance)
    assert a.informativeness == b.informativeness


# ---------------------------------------------------------------------------------------------- bad input


def test_bad_inputs():
    rng = np.random.default_rng(0)
    codes, f = rng.normal(size=(50, 3)), rng.normal(size=(50, 2))
    with pytest.raises(ValueError, match="disagree on N"):
        dci(codes, f[:40])
    with pytest.raises(ValueError, match=r"codes must be \[N, D\]"):
        dci(codes[:, 0], f)
    bad = codes.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="codes contains NaN"):
        dci(bad, f)
    bad = f.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="factors contains NaN or inf"):
        dci(codes, bad)
    with pytest.raises(ValueError, match="too few samples"):
        dci(codes[:6], f[:6])
    with pytest.raises(ValueError, match="too few samples"):
        dci(codes, f, test_fraction=0.01)
    with pytest.raises(ValueError, match="test_fraction"):
        dci(codes, f, test_fraction=1.0)
    with pytest.raises(ValueError, match="method"):
        dci(codes, f, method="forest")
    with pytest.raises(ValueError, match="weighting"):
        dci(codes, f, weighting="max")
    with pytest.raises(ValueError, match="alpha"):
        dci(codes, f, alpha=0.0)
    with pytest.raises(ValueError, match="constant"):
        dci(codes, np.ones((50, 2)))
    with pytest.raises(ValueError, match="at least one"):
        dci(codes[:, :0], f)
    with pytest.raises(ValueError, match="numeric"):
        dci(codes.astype(str), f)
    with pytest.raises(ValueError, match=">= 0"):
        disentanglement([[1.0, -0.1]])
    with pytest.raises(ValueError, match="NaN"):
        completeness([[1.0, np.nan]])
    with pytest.raises(ValueError, match=r"\[D, K\]"):
        completeness_per_factor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\[D, K\]"):
        disentanglement(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="weighting"):
        completeness(np.eye(2), weighting="code")
