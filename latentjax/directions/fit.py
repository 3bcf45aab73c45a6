"""One call from a latent dataset to saved `Direction`s: the engine behind `latentjax directions fit`.

latents: [N, D] in one space ("z", "w", or flattened "w+"); labels: [N, A] bool (classifier
probabilities > 0.5, or exact labels); scores: [N, A] float (for InterFaceGAN's ranking).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from latentjax import validate
from latentjax.directions.batched import fit_linear_classifiers
from latentjax.directions.io import Direction
from latentjax.directions.linear import logistic_direction, svm_direction

METHODS = ("logistic", "svm", "batched")


def fit_directions(
    latents,
    labels,
    attributes: Sequence[str],
    method: str = "logistic",
    space: str = "w",
    C: float = 0.1,
    scores=None,
    fraction: float = 0.02,
    penalty: str = "l1",
) -> list[Direction]:
    """A unit direction per attribute, with its method, hyper-parameters and fit metrics.

    method "logistic": paper 000's L1 (or L2) logistic regression, one sklearn fit each;
    "svm": InterFaceGAN (top/bottom `fraction` by `scores`, linear SVM, held-out accuracy);
    "batched": every attribute at once in JAX (`fit_linear_classifiers`, same objective as sklearn).
    """
    x = np.asarray(validate.real_array(latents, "latents", ("N", "D"), min_rows=2))
    # NaN labels would count as True and probabilities as all-True: only bool / 0-1 labels pass.
    y = validate.labels(labels, "labels", (x.shape[0], len(attributes)))
    if scores is not None:
        scores = np.asarray(validate.real_array(scores, "scores", (x.shape[0], len(attributes))))
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    out = []
    if method == "batched":
        fit = fit_linear_classifiers(x, y, penalty=penalty, C=C)
        dirs, acc = np.asarray(fit.directions), np.asarray(fit.train_accuracy)
        for i, a in enumerate(attributes):
            metrics = {"train_accuracy": float(acc[i]), "nonzero": int(np.count_nonzero(np.asarray(fit.weights)[:, i]))}
            out.append(Direction(dirs[i], space, None, "batched-logistic", a, {"C": C, "penalty": penalty}, metrics))
        return out
    for i, a in enumerate(attributes):
        if method == "logistic":
            r = logistic_direction(x, y[:, i], C=C, penalty=penalty)
            hp, metrics = {"C": C, "penalty": penalty}, {"train_accuracy": r.train_accuracy, "nonzero": r.nonzero}
        else:
            s = np.asarray(scores if scores is not None else y, np.float64)[:, i]
            r = svm_direction(x, s, fraction=fraction, C=C)
            hp = {"C": C, "fraction": fraction}
            metrics = {"train_accuracy": r.train_accuracy, "val_accuracy": r.val_accuracy}
        out.append(Direction(r.direction, space, None, method, a, hp, metrics))
    return out
