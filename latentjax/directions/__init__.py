"""Attribute directions in latent space: linear (logistic, SVM, regression), batched JAX fits,
conditional projection, PCA, a nonlinear MLP with gradient traversal, separability scores, and
a pickle-free file format. One concept per module; see each module's docstring for its paper.
"""

from latentjax.directions.batched import LinearClassifiers, fit_linear_classifiers, predict, predict_proba
from latentjax.directions.conditional import condition, orthonormal_basis, project_off
from latentjax.directions.io import Direction, load_direction, save_direction
from latentjax.directions.linear import (
    LogisticDirection,
    RegressionDirection,
    SVMDirection,
    logistic_direction,
    regression_direction,
    svm_direction,
)
from latentjax.directions.nonlinear import MLPConfig, MLPFit, Traversal, fit_mlp, mlp_logits, traverse
from latentjax.directions.pca import PCA, from_pca, pca, to_pca
from latentjax.directions.scores import CVScores, SVMAccuracy, cv_scores, svm_accuracy_split

__all__ = [
    "CVScores",
    "Direction",
    "LinearClassifiers",
    "LogisticDirection",
    "MLPConfig",
    "MLPFit",
    "PCA",
    "RegressionDirection",
    "SVMAccuracy",
    "SVMDirection",
    "Traversal",
    "condition",
    "cv_scores",
    "fit_linear_classifiers",
    "fit_mlp",
    "from_pca",
    "load_direction",
    "logistic_direction",
    "mlp_logits",
    "orthonormal_basis",
    "pca",
    "predict",
    "predict_proba",
    "project_off",
    "regression_direction",
    "save_direction",
    "svm_accuracy_split",
    "svm_direction",
    "to_pca",
    "traverse",
]
