"""Linear separability scores of attributes in a latent space.

- `cv_scores`: paper 000 Table 1: ROC AUC and balanced accuracy of an L1 logistic classifier
  (C = 0.1) from stratified 10-fold cross-validation, per attribute (the mean over folds).
- `svm_accuracy_split`: paper 002 Table 1: a linear SVM per attribute fitted on 80% of the codes,
  accuracy on the other 20%, reported as min / max / mean over attributes.

Shapes: latents [N, D], labels [N] or [N, A] bool; results are per attribute [A] (float64).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_validate, train_test_split
from sklearn.svm import LinearSVC

from latentjax.directions.linear import logistic_model, validate_latents


@dataclass(frozen=True)
class CVScores:
    auc: np.ndarray  # [A] mean ROC AUC over folds
    balanced_accuracy: np.ndarray  # [A] mean balanced accuracy over folds
    auc_std: np.ndarray  # [A] spread over folds
    balanced_accuracy_std: np.ndarray  # [A]


@dataclass(frozen=True)
class SVMAccuracy:
    accuracy: np.ndarray  # [A] held-out accuracy per attribute
    min: float
    max: float
    mean: float


def _as_label_matrix(labels, n: int) -> np.ndarray:
    y = np.asarray(labels)
    y = y[:, None] if y.ndim == 1 else y
    if y.ndim != 2 or y.shape[0] != n:
        raise ValueError(f"labels must be [N] or [N, A] with N = {n}, got shape {np.shape(labels)}")
    if y.dtype != bool:
        raise ValueError(f"labels must be bool, got {y.dtype}")
    for a in range(y.shape[1]):
        if y[:, a].all() or not y[:, a].any():
            raise ValueError(f"attribute {a} has a single class; no classifier can be scored on it")
    return y


def cv_scores(
    latents, labels, folds: int = 10, C: float = 0.1, penalty: str = "l1", solver: str = "liblinear", seed: int = 0
) -> CVScores:
    """Stratified k-fold CV of a (default L1, C = 0.1) logistic classifier per attribute: AUC and balanced accuracy."""
    x = validate_latents(latents)
    y = _as_label_matrix(labels, x.shape[0])
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    rows = []
    for a in range(y.shape[1]):
        r = cross_validate(
            logistic_model(C, penalty, solver, seed=seed), x, y[:, a], cv=cv, scoring=("roc_auc", "balanced_accuracy")
        )
        auc, bacc = r["test_roc_auc"], r["test_balanced_accuracy"]
        rows.append((auc.mean(), bacc.mean(), auc.std(), bacc.std()))
    return CVScores(*(np.array(col, np.float64) for col in zip(*rows)))


def svm_accuracy_split(latents, labels, test_fraction: float = 0.2, C: float = 1.0, seed: int = 0) -> SVMAccuracy:
    """Linear SVM per attribute on a stratified (1 - test_fraction) / test_fraction split; held-out accuracy."""
    x = validate_latents(latents)
    y = _as_label_matrix(labels, x.shape[0])
    acc = []
    for a in range(y.shape[1]):
        x_fit, x_test, y_fit, y_test = train_test_split(
            x, y[:, a], test_size=test_fraction, stratify=y[:, a], random_state=seed
        )
        model = LinearSVC(C=C, dual="auto", max_iter=10000, random_state=seed).fit(x_fit, y_fit)
        acc.append(model.score(x_test, y_test))
    accuracy = np.array(acc, np.float64)
    return SVMAccuracy(accuracy, float(accuracy.min()), float(accuracy.max()), float(accuracy.mean()))
