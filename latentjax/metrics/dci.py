"""DCI: disentanglement, completeness, informativeness (Eastwood & Williams, ICLR 2018), as in paper 002 Table 1.

Pipeline (E&W Sec. 3): one predictor per factor k maps codes -> factor k; its per-code importances form
column k of the importance matrix R [D, K] (R_dk >= 0: how much code d matters for factor k).

- Disentanglement of code d: D_d = 1 - H_K(P_d.), P_dk = R_dk / sum_k R_dk (entropy in base K);
  D = sum_d rho_d D_d with code importance rho_d = sum_k R_dk / sum R (E&W eq. 2; disentanglement_lib).
- Completeness of factor k: C_k = 1 - H_D(P_.k), P_dk = R_dk / sum_d R_dk (entropy in base D).
  C = plain mean over factors by default (E&W's summary, "mean"), or weighted by factor importance
  sum_d R_dk / sum R ("factor", disentanglement_lib's `completeness`). Why "mean" is the default: paper 002
  uses E&W's Lasso set-up, and with Lasso the column sums of |coef| reflect how *predictable* a factor is, not
  how important it is, so weighting by them lets the easy factors hide the badly captured ones. With GBT the
  columns each sum to 1 (feature_importances_ are normalised), so both weightings agree there.
- Informativeness of factor k: held-out score of its predictor, HIGHER IS BETTER, in [0, 1]:
  accuracy for discrete factors (bool / integer labels; a Lasso prediction is snapped to the nearest training
  class, i.e. thresholded at 0.5 for bool labels), R^2 = 1 - NMSE (clipped at 0) for continuous factors.
  `DCIResult.prediction_error` = 1 - informativeness is the error form that E&W and paper 002 report
  ("I is simply the classification error", Table 1, I lower is better).

Predictors (`method`):
- "lasso" (E&W; paper 002: "40 Lasso regressors with alpha = 0.05", one per CelebA attribute):
  R[:, k] = |coef| of sklearn `Lasso(alpha)`. Codes AND factors are standardised (zero mean, unit variance,
  training-split statistics), as E&W do: otherwise |coef| scales with each code's spread and each factor's
  units, so R would compare codes/factors by their units rather than their relevance, and alpha would mean a
  different amount of shrinkage for every factor.
- "gbt" (disentanglement_lib): `GradientBoostingClassifier` for discrete factors, `GradientBoostingRegressor`
  for continuous ones; R[:, k] = feature_importances_ (trees are invariant to the code standardisation).

Predictors are fitted on a seeded (1 - test_fraction) split; informativeness is measured on the rest.

Edge cases (no NaN is ever returned):
- A code (row) or factor (column) with zero total importance scores 0: an unused code disentangles nothing,
  an uncaptured factor is not captured. disentanglement_lib gets the same numbers (it adds 1e-11, making such
  a row uniform, entropy 1) whenever its entropies are defined. All-zero R therefore gives D = C = 0
  (disentanglement_lib: "treat as uniform ones", also 0), with uniform weights so nothing divides by zero.
- K = 1: base-1 entropy is undefined (log 1 = 0); a distribution over one factor has no uncertainty, so every
  used code scores D_d = 1 (it captures at most one factor, trivially). Likewise D = 1 code: C_k = 1 for every
  captured factor.

Shapes: codes [N, D], factors [N] or [N, K]; R [D, K]; per-code [D]; per-factor [K]. All results float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.linear_model import Lasso
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

METHODS = ("lasso", "gbt")
WEIGHTINGS = ("mean", "factor")
MIN_SAMPLES = 10  # below this a train/test split leaves too few points to fit or to score anything


@dataclass(frozen=True)
class DCIResult:
    disentanglement: float  # D, in [0, 1], higher is better
    completeness: float  # C, in [0, 1], higher is better (weighting as passed to `dci`)
    informativeness: float  # mean held-out accuracy / R^2 over factors, in [0, 1], higher is better
    per_code: np.ndarray  # [D] disentanglement of each code
    per_factor: np.ndarray  # [K] completeness of each factor
    informativeness_per_factor: np.ndarray  # [K] held-out accuracy (discrete) or clipped R^2 (continuous)
    importance: np.ndarray  # [D, K] R >= 0
    method: str  # "lasso" | "gbt"
    discrete: np.ndarray  # [K] bool: which factors were scored by accuracy (True) or R^2 (False)

    @property
    def prediction_error(self) -> float:
        """1 - informativeness: classification error / NMSE, lower is better (E&W's I; paper 002 Table 1's I)."""
        return 1.0 - self.informativeness


# ---------------------------------------------------------------------------------------------- D and C from R


def _validate_importance(R) -> np.ndarray:
    r = np.asarray(R)
    if r.ndim != 2 or r.shape[0] == 0 or r.shape[1] == 0:
        raise ValueError(f"importance matrix must be [D, K] with D, K >= 1, got shape {r.shape}")
    if not np.issubdtype(r.dtype, np.number) and r.dtype != bool:
        raise ValueError(f"importance matrix must be numeric, got {r.dtype}")
    r = r.astype(np.float64)
    if not np.isfinite(r).all():
        raise ValueError("importance matrix contains NaN or inf")
    if (r < 0).any():
        raise ValueError("importance matrix must be >= 0 (use |coef|)")
    return r


def _one_minus_normalised_entropy(rows: np.ndarray) -> np.ndarray:
    """rows: [M, n] >= 0 -> [M]: 1 - H_n(row / row.sum()), 0 for all-zero rows, 1 for used rows when n == 1."""
    totals = rows.sum(axis=1)
    out = np.zeros(rows.shape[0], np.float64)
    used = totals > 0
    n = rows.shape[1]
    if n == 1:  # log base 1 is undefined; one outcome carries no uncertainty (module docstring)
        out[used] = 1.0
        return out
    p = rows[used] / totals[used, None]
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)  # 0 log 0 = 0, no epsilon needed
    out[used] = 1.0 + plogp.sum(axis=1) / np.log(n)
    return np.clip(out, 0.0, 1.0)  # rounding can leave +-1e-16


def disentanglement_per_code(R) -> np.ndarray:
    """R: [D, K] -> [D]: 1 - H_K(P_d.) per code (E&W eq. 1); 0 for codes with no importance."""
    return _one_minus_normalised_entropy(_validate_importance(R))


def disentanglement(R) -> float:
    """R: [D, K] -> D = sum_d rho_d (1 - H_K(P_d.)), rho_d = sum_k R_dk / sum R (E&W eq. 2). 0 for all-zero R."""
    r = _validate_importance(R)
    total = r.sum()
    if total == 0:  # disentanglement_lib: uniform ones -> every code has entropy 1 -> 0
        return 0.0
    rho = r.sum(axis=1) / total
    return float(np.clip(rho @ _one_minus_normalised_entropy(r), 0.0, 1.0))


def completeness_per_factor(R) -> np.ndarray:
    """R: [D, K] -> [K]: 1 - H_D(P_.k) per factor (E&W eq. 3); 0 for factors no code predicts."""
    return _one_minus_normalised_entropy(_validate_importance(R).T)


def completeness(R, weighting: str = "mean") -> float:
    """R: [D, K] -> C: "mean" = plain mean of C_k over factors (E&W, default); "factor" = weighted by
    sum_d R_dk / sum R (disentanglement_lib). 0 for all-zero R."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    r = _validate_importance(R)
    per_factor = _one_minus_normalised_entropy(r.T)
    total = r.sum()
    if total == 0:
        return 0.0
    weights = np.full(r.shape[1], 1.0 / r.shape[1]) if weighting == "mean" else r.sum(axis=0) / total
    return float(np.clip(weights @ per_factor, 0.0, 1.0))


# ---------------------------------------------------------------------------------------- R from codes/factors


def _validate_inputs(codes, factors, test_fraction: float, discrete) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(codes)
    y = np.asarray(factors)
    if x.ndim != 2:
        raise ValueError(f"codes must be [N, D], got shape {x.shape}")
    y = y[:, None] if y.ndim == 1 else y
    if y.ndim != 2:
        raise ValueError(f"factors must be [N] or [N, K], got shape {np.shape(factors)}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"codes and factors disagree on N: {x.shape[0]} vs {y.shape[0]}")
    if x.shape[1] == 0 or y.shape[1] == 0:
        raise ValueError(f"need at least one code and one factor, got D = {x.shape[1]}, K = {y.shape[1]}")
    for name, a in (("codes", x), ("factors", y)):
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise ValueError(f"{name} must be numeric or bool, got {a.dtype}")
        if a.dtype != bool and not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or inf")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    n = x.shape[0]
    n_test = int(np.ceil(n * test_fraction))
    if n < MIN_SAMPLES or n_test < 2 or n - n_test < 2:
        raise ValueError(
            f"too few samples: N = {n} with test_fraction = {test_fraction} (need N >= {MIN_SAMPLES} "
            "and at least 2 samples on each side of the split)"
        )
    constant = [k for k in range(y.shape[1]) if np.all(y[:, k] == y[0, k])]
    if constant:
        raise ValueError(f"factors {constant} are constant: nothing to predict")
    if discrete is None:  # bool / integer labels are classes (paper 002's attributes); floats are continuous
        mask = np.full(y.shape[1], y.dtype == bool or np.issubdtype(y.dtype, np.integer))
    else:
        mask = np.broadcast_to(np.asarray(discrete, bool), (y.shape[1],)).copy()
    return x.astype(np.float64), y, mask


def _standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zero mean, unit variance with training statistics (E&W); constant columns are only centred."""
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def _snap(pred: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """pred [M] -> the nearest of the (sorted) training classes [C]; for {0, 1} labels: threshold at 0.5."""
    return classes[np.abs(pred[:, None] - classes[None, :].astype(np.float64)).argmin(axis=1)]


def _fit_lasso(x_fit, y_fit, x_test, y_test, discrete: bool, alpha: float, seed: int, max_iter: int):
    y_num = y_fit.astype(np.float64)
    mean, std = y_num.mean(), y_num.std()  # std > 0: a constant training factor is refused earlier
    model = Lasso(alpha=alpha, max_iter=max_iter, random_state=seed).fit(x_fit, (y_num - mean) / std)
    pred = model.predict(x_test) * std + mean
    if discrete:
        score = float(np.mean(_snap(pred, np.unique(y_fit)) == y_test))
    else:
        score = float(r2_score(y_test.astype(np.float64), pred))
    return np.abs(model.coef_), score


def _fit_gbt(x_fit, y_fit, x_test, y_test, discrete: bool, seed: int, n_estimators: int):
    if discrete:
        model = GradientBoostingClassifier(n_estimators=n_estimators, random_state=seed).fit(x_fit, y_fit)
    else:
        y_fit, y_test = y_fit.astype(np.float64), y_test.astype(np.float64)
        model = GradientBoostingRegressor(n_estimators=n_estimators, random_state=seed).fit(x_fit, y_fit)
    return np.abs(model.feature_importances_), float(model.score(x_test, y_test))  # accuracy / R^2


def importance_matrix(
    codes,
    factors,
    method: str = "lasso",
    alpha: float = 0.05,
    test_fraction: float = 0.2,
    seed: int = 0,
    discrete=None,
    max_iter: int = 10000,
    n_estimators: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """codes [N, D], factors [N] or [N, K] -> (R [D, K] float64 >= 0, informativeness [K] float64 in [0, 1]).

    method "lasso": R[:, k] = |coef| of Lasso(alpha) on standardised codes -> standardised factor k (E&W,
    paper 002: alpha = 0.05). method "gbt": R[:, k] = feature_importances_ of a gradient-boosted classifier
    (discrete factor) or regressor (continuous factor), as disentanglement_lib.
    Fitted on a seeded (1 - test_fraction) split; informativeness[k] = held-out accuracy (discrete) or R^2
    clipped to [0, 1] (continuous), higher is better. `discrete`: None = bool/integer dtype means discrete;
    or a bool / [K] bool override.
    """
    x, y, mask = _validate_inputs(codes, factors, test_fraction, discrete)
    return _importance(x, y, mask, method, alpha, test_fraction, seed, max_iter, n_estimators)


def _importance(x, y, mask, method, alpha, test_fraction, seed, max_iter, n_estimators):
    """Validated x [N, D] float64, y [N, K], mask [K] bool -> (R [D, K], informativeness [K])."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "lasso" and not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    x_fit, x_test, y_fit, y_test = train_test_split(x, y, test_size=test_fraction, random_state=seed, shuffle=True)
    x_fit, x_test = _standardise(x_fit, x_test)
    K = y.shape[1]
    R = np.zeros((x.shape[1], K), np.float64)
    info = np.zeros(K, np.float64)
    for k in range(K):
        if np.all(y_fit[:, k] == y_fit[0, k]):
            raise ValueError(f"factor {k} is constant on the training split; use more samples")
        if method == "lasso":
            R[:, k], info[k] = _fit_lasso(x_fit, y_fit[:, k], x_test, y_test[:, k], mask[k], alpha, seed, max_iter)
        else:
            R[:, k], info[k] = _fit_gbt(x_fit, y_fit[:, k], x_test, y_test[:, k], mask[k], seed, n_estimators)
    # R^2 below 0 (worse than predicting the mean) carries no information: clip so I stays in [0, 1]
    return R, np.clip(info, 0.0, 1.0)


def dci(
    codes,
    factors,
    method: str = "lasso",
    alpha: float = 0.05,
    test_fraction: float = 0.2,
    seed: int = 0,
    discrete=None,
    weighting: str = "mean",
    max_iter: int = 10000,
    n_estimators: int = 100,
) -> DCIResult:
    """codes [N, D], factors [N] or [N, K] (bool attribute labels, as paper 002, or continuous) -> DCIResult.

    Defaults reproduce paper 002 Table 1's set-up: one Lasso(alpha = 0.05) per attribute. `weighting` picks the
    completeness summary ("mean": E&W, default; "factor": disentanglement_lib).
    """
    if weighting not in WEIGHTINGS:  # checked before the fits, not after them
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    x, y, mask = _validate_inputs(codes, factors, test_fraction, discrete)
    R, info = _importance(x, y, mask, method, alpha, test_fraction, seed, max_iter, n_estimators)
    return DCIResult(
        disentanglement=disentanglement(R),
        completeness=completeness(R, weighting),
        informativeness=float(info.mean()),
        per_code=disentanglement_per_code(R),
        per_factor=completeness_per_factor(R),
        informativeness_per_factor=info,
        importance=R,
        method=method,
        discrete=mask,
    )
