"""Linear attribute directions fitted with scikit-learn: logistic (paper 000), SVM (InterFaceGAN), regression.

Shapes: latents [N, D] (one row per sample: z, w, or a W+ code flattened to [N, L * D]),
labels [N] bool, scores / values [N] float. Every returned `direction` is a unit vector [D]
(float64) in the *raw* latent space the caller passed in, signed so that moving along +direction
raises the attribute (its logit, SVM score or regressed value).

Raw vs standardised space: paper 000 fits on raw W (no scaling) and uses the coefficients
themselves as the edit direction, so that is the default. `standardize=True` fits on per-
dimension z-scores (useful when dimensions have very different scales, e.g. raw Z vs W) and maps
the coefficients back with beta_raw = beta_std / std, the gradient of the same decision function
in raw coordinates; the penalty then acts on the standardised weights, so L1 sparsity patterns
differ between the two settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from latentjax import validate

_SKLEARN_HAS_L1_RATIO = tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 8)


@dataclass(frozen=True)
class LogisticDirection:
    direction: np.ndarray  # [D] unit, raw latent space
    coef: np.ndarray  # [D] raw-space logit weights: logit = latents @ coef + intercept
    intercept: float
    nonzero: int  # non-zero entries of coef (paper 000 Sec. 4.2 / Fig. 10: how many values of w are edited)
    train_accuracy: float


@dataclass(frozen=True)
class SVMDirection:
    direction: np.ndarray  # [D] unit normal of the separating hyperplane, + towards high scores
    coef: np.ndarray  # [D] raw-space SVM weights
    intercept: float
    train_accuracy: float
    val_accuracy: float  # on the held-out part of the top/bottom samples (InterFaceGAN's split)
    num_per_side: int  # samples taken from each end of the score ranking


@dataclass(frozen=True)
class RegressionDirection:
    direction: np.ndarray  # [D] unit, raw latent space
    coef: np.ndarray  # [D] raw-space weights: value ~ latents @ coef + intercept
    intercept: float
    r2: float  # coefficient of determination on the fitted samples


def logistic_model(C: float, penalty: str, solver: str, max_iter: int = 1000, seed: int = 0) -> LogisticRegression:
    """An unfitted sklearn LogisticRegression; `penalty` in {"l1", "l2"} (spelled as l1_ratio on sklearn >= 1.8)."""
    if penalty not in ("l1", "l2"):
        raise ValueError(f"penalty must be 'l1' or 'l2', got {penalty!r}")
    if penalty == "l1" and solver not in ("liblinear", "saga"):
        raise ValueError(f"the L1 penalty needs solver 'liblinear' or 'saga', got {solver!r}")
    kw = {"l1_ratio": 1.0 if penalty == "l1" else 0.0} if _SKLEARN_HAS_L1_RATIO else {"penalty": penalty}
    return LogisticRegression(C=C, solver=solver, max_iter=max_iter, random_state=seed, **kw)


def validate_latents(latents) -> np.ndarray:
    """latents as float64 [N, D], N > 0, all finite; ValueError otherwise."""
    x = np.asarray(validate.real_array(latents, "latents", finite=False), np.float64)  # complex refused
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"latents must be [N, D] with N > 0, got shape {x.shape} (flatten W+ codes to [N, L * D])")
    if not np.all(np.isfinite(x)):
        raise ValueError("latents contain NaN or inf")
    return x


def _as_vector(values, n: int, name: str, dtype) -> np.ndarray:
    v = np.asarray(values)
    if v.shape != (n,):
        raise ValueError(f"{name} must be [N] = [{n}], got shape {v.shape}")
    return v.astype(dtype)


def _scaling(x: np.ndarray, standardize: bool) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) so that the model sees (x - mean) / std; identity when not standardising."""
    if not standardize:
        return np.zeros(x.shape[1]), np.ones(x.shape[1])
    std = x.std(axis=0)
    return x.mean(axis=0), np.where(std > 0, std, 1.0)


def _unit(coef: np.ndarray, what: str) -> np.ndarray:
    norm = float(np.linalg.norm(coef))
    if norm == 0.0:
        raise ValueError(f"{what}: every coefficient is zero (regularisation too strong: raise C)")
    return coef / norm


def logistic_direction(
    latents,
    labels,
    C: float = 0.1,
    penalty: str = "l1",
    solver: str = "liblinear",
    standardize: bool = False,
    max_iter: int = 1000,
    seed: int = 0,
) -> LogisticDirection:
    """Regularised logistic regression of labels [N] bool on latents [N, D]; its weights are the direction.

    Paper 000 Sec. 4.2: L1 (C = 0.1 as in its Table 1) splits W into the entries that encode the
    attribute and the rest; smaller C -> fewer non-zero entries (its Fig. 10). solver: "liblinear"
    or "saga" for L1 (note liblinear also penalises the intercept), any sklearn solver for L2.
    """
    x = validate_latents(latents)
    y = validate.labels(labels, "labels", (x.shape[0],))  # NaN / probabilities are not labels
    if y.all() or not y.any():
        raise ValueError("labels must contain both classes")
    mean, std = _scaling(x, standardize)
    model = logistic_model(C, penalty, solver, max_iter, seed).fit((x - mean) / std, y)
    coef = model.coef_[0] / std
    intercept = float(model.intercept_[0] - mean @ coef)
    accuracy = float(np.mean((x @ coef + intercept > 0) == y))
    return LogisticDirection(_unit(coef, "logistic_direction"), coef, intercept, int(np.count_nonzero(coef)), accuracy)


def svm_direction(
    latents,
    scores,
    fraction: float = 0.02,
    C: float = 1.0,
    train_fraction: float = 0.7,
    standardize: bool = False,
    seed: int = 0,
) -> SVMDirection:
    """InterFaceGAN boundary: a linear SVM between the top and bottom `fraction` of samples by score.

    scores [N]: a continuous attribute score (e.g. a classifier's probability or logit). The
    ambiguous middle of the ranking is dropped; each end is shuffled and split `train_fraction` /
    rest into fit / validation (InterFaceGAN: 2% per side, 70/30). The unit normal points
    towards the high-score side.
    """
    x = validate_latents(latents)
    s = _as_vector(scores, x.shape[0], "scores", np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or inf")
    k = int(round(fraction * x.shape[0]))
    if not 0.0 < fraction <= 0.5 or k < 2:
        raise ValueError(f"fraction must be in (0, 0.5] and keep >= 2 samples per side, got {fraction} of {len(s)}")
    order = np.argsort(s, kind="stable")
    rng = np.random.default_rng(seed)
    sides = [rng.permutation(order[-k:]), rng.permutation(order[:k])]  # positives (high scores), negatives
    n_fit = min(max(int(round(train_fraction * k)), 1), k - 1)  # keep >= 1 per side for validation
    fit_idx = np.concatenate([side[:n_fit] for side in sides])
    val_idx = np.concatenate([side[n_fit:] for side in sides])
    y = np.zeros(x.shape[0], bool)
    y[order[-k:]] = True

    mean, std = _scaling(x[fit_idx], standardize)
    model = LinearSVC(C=C, dual="auto", max_iter=10000, random_state=seed).fit((x[fit_idx] - mean) / std, y[fit_idx])
    coef = model.coef_[0] / std  # sklearn's positive class is True = high scores, so + raises the score
    intercept = float(model.intercept_[0] - mean @ coef)

    def accuracy(idx):
        return float(np.mean((x[idx] @ coef + intercept > 0) == y[idx]))

    return SVMDirection(_unit(coef, "svm_direction"), coef, intercept, accuracy(fit_idx), accuracy(val_idx), k)


def regression_direction(latents, values, alpha: float = 0.0, standardize: bool = False) -> RegressionDirection:
    """Least squares (alpha = 0) or ridge regression of a continuous attribute values [N] on latents [N, D].

    Paper 004 Sec. 4.2 uses linear regression for numeric attributes (age, smile). Closed form
    on centred data, so the intercept is not penalised: coef = (Xc^T Xc + alpha I)^+ Xc^T yc.
    """
    x = validate_latents(latents)
    v = _as_vector(values, x.shape[0], "values", np.float64)
    if not np.all(np.isfinite(v)):
        raise ValueError("values contain NaN or inf")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    _, std = _scaling(x, standardize)
    xc = (x - x.mean(axis=0)) / std
    vc = v - v.mean()
    if alpha == 0.0:
        beta = np.linalg.lstsq(xc, vc, rcond=None)[0]
    else:
        beta = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ vc)
    coef = beta / std
    intercept = float(v.mean() - x.mean(axis=0) @ coef)
    residual = v - (x @ coef + intercept)
    total = float(vc @ vc)
    r2 = 1.0 - float(residual @ residual) / total if total > 0 else 0.0
    return RegressionDirection(_unit(coef, "regression_direction"), coef, intercept, r2)
