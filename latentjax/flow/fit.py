"""The whole of paper 002's recipe in one call: fixed linear classifiers C_i in the input space,
T trained against them, then InterFaceGAN normals fitted in W* (what `latentjax flow train` runs)."""

from __future__ import annotations

import numpy as np

from latentjax.directions.batched import fit_linear_classifiers
from latentjax.flow.edit import fit_wstar_normals
from latentjax.flow.io import FlowModel
from latentjax.flow.realnvp import FlowConfig
from latentjax.flow.train import FlowTrainConfig, train_flow


def fixed_classifiers(latents, labels, C: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """C_i: one L2 logistic regression per attribute (all in one jit), latents [N, D], labels [N, A]
    bool -> (clf_w [A, D], clf_b [A]) float32. Paper 002 pre-trains them and keeps them fixed (Sec. 3)."""
    fit = fit_linear_classifiers(latents, labels, penalty="l2", C=C)
    return np.asarray(fit.weights, np.float32).T.copy(), np.asarray(fit.biases, np.float32)


def fit_wstar(
    latents,
    probs,
    attributes,
    cfg: FlowConfig | None = None,
    tcfg: FlowTrainConfig | None = None,
    ckpt_dir=None,
    C: float = 1.0,
    progress=False,  # latentjax.progress: a callback, True for a bar, False
    meta: dict | None = None,
) -> tuple[FlowModel, dict]:
    """latents [N, D] (flat W or W+), probs [N, A] in [0, 1] -> (FlowModel with W* normals, history).

    Labels are probs > 0.5; W* normals are InterFaceGAN SVMs on T(latents) scored by probs.
    ckpt_dir: orbax checkpoints (a killed run resumes there).
    """
    x = np.asarray(latents, np.float32)
    p = np.asarray(probs, np.float32)
    if x.ndim != 2 or p.ndim != 2 or len(x) != len(p):
        raise ValueError(f"latents [N, D] and probs [N, A] must agree on N, got {x.shape} and {p.shape}")
    labels = p > 0.5
    cfg = cfg or FlowConfig(dim=x.shape[1])
    clf_w, clf_b = fixed_classifiers(x, labels, C)
    tcfg = tcfg or FlowTrainConfig()
    params, history = train_flow(x, labels, clf_w, clf_b, cfg, tcfg, ckpt_dir=ckpt_dir, progress=progress)
    normals = fit_wstar_normals(params, x, p, cfg=cfg)
    model = FlowModel(cfg, params, clf_w, clf_b, tuple(attributes), normals, dict(meta or {}))
    return model, history
