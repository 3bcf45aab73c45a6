"""One metric run as `latentjax metrics` does it: pick the latents, measure, return the record to save."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latentjax.generator import Generator

METRICS = ("separability", "ppl", "scores", "dci")


@dataclass(frozen=True)
class Measurement:
    """`result`: the metric's own result (SeparabilityResult, PPLResult, DCIResult; for "scores" a dict
    of cv (CVScores), svm (SVMAccuracy) and pca_explained_variance_ratio). `attributes`: the attribute
    names (none for PPL). `record`: the JSON document `latentjax metrics --out` writes (header + options
    + result; `io.write_json` turns the dataclasses into JSON)."""

    metric: str
    result: Any
    attributes: tuple[str, ...] = ()
    record: dict = field(default_factory=dict, repr=False)


def measure(
    metric: str,
    G: Generator | None,
    *,
    space: str = "w",
    psi: float = 1.0,
    model: str = "",
    labelled=None,
    ppl: dict | None = None,
    options: dict | None = None,
) -> Measurement:
    """Run `metric` ("separability", "ppl", "scores" or "dci") in `space` ("z" or "w").

    PPL renders from G with `ppl` = keyword arguments of `metrics.ppl.perceptual_path_length`
    (num_samples, sampling, epsilon, crop, batch, seed, noise_mode, progress). The others score
    `labelled` latents (`metrics.sample.labelled_latents`) with `options`: separability engine / C
    (`linear_separability`), scores folds / C / test_fraction (`cv_scores`, `svm_accuracy_split`, PCA),
    dci method / alpha / weighting (`dci`). model: a name for the record.
    """
    from latentjax.latent_types import SAMPLED, check_space

    check_space(space, SAMPLED)
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    header = {"metric": metric, "model": model, "space": space}
    if metric == "ppl":
        from latentjax.metrics.ppl import perceptual_path_length

        r = perceptual_path_length(G, space=space, truncation_psi=psi, **(ppl or {}))
        return Measurement(metric, r, (), {**header, "trunc": psi, "result": r})
    if labelled is None:
        raise ValueError(f"{metric} needs labelled latents (metrics.sample.labelled_latents)")
    opts = dict(options or {})
    x, names = labelled.latents(space), tuple(labelled.attributes)
    header.update(n=len(x), labels=labelled.source, trunc=psi, attributes=list(names))
    if metric == "separability":
        from latentjax.metrics.separability import DEFAULT_ENGINE, linear_separability

        engine = opts.get("engine", DEFAULT_ENGINE)
        r = linear_separability(x, labelled.probs, engine=engine, C=opts.get("C", 1.0), attributes=names)
        return Measurement(metric, r, names, {**header, "engine": engine, "result": r})
    if metric == "scores":
        from latentjax.directions.pca import pca
        from latentjax.directions.scores import cv_scores, svm_accuracy_split

        folds = opts.get("folds", 10)
        cv = cv_scores(x, labelled.labels, folds=folds, C=opts.get("C", 0.1))
        svm = svm_accuracy_split(x, labelled.labels, test_fraction=opts.get("test_fraction", 0.2))
        ratio = np.asarray(pca(x, min(x.shape)).explained_variance_ratio)
        r = {"cv": cv, "svm": svm, "pca_explained_variance_ratio": ratio}
        return Measurement(metric, r, names, {**header, **r, "folds": folds})
    from latentjax.metrics.dci import dci

    method = opts.get("method", "lasso")
    r = dci(x, labelled.labels, method=method, alpha=opts.get("alpha", 0.05), weighting=opts.get("weighting", "mean"))
    return Measurement(metric, r, names, {**header, "method": method, "result": r})
