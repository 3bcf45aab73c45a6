"""The training objective of T (paper 002 Sec. 3): L_W* = L_a + lambda_lm L_lm + lambda_ap L_ap.

Notation: w [N, D] flat W+ codes, w* = T(w), y [N, A] attribute labels in {0, 1}. The K = A
classifiers C_i are FIXED, pre-trained linear ones (one-layer MLPs, Sec. 4), given as weights
clf_w [A, D] and biases clf_b [A]: C_i(x) = sigmoid(x . clf_w[i] + clf_b[i]). d_i is the unit
normal of C_i's hyperplane, clf_w[i] / ||clf_w[i]||. Every term is a per-sample sum over
attributes (the paper's "for each sample w"), averaged over the batch.

  Eq. 1  L_a  = sum_i BCE(C_i(T(w)), y_i)                   classifiers applied in W*
  Eq. 2  L_lm = sum_i [-m_i |w*^T d_i| + (1 - m_i) |w*^T d_i|]
                m_i = 1 iff C_i(w*) classifies the sample correctly (logit > 0 <=> y_i = 1)
  Eq. 3  L_ap = sum_{i != j} |C_i(w) - C_i(w_hat)|,  w_hat = T^-1(T(w) + alpha d_j)
                classifiers applied in W+ (to w and to the edited code mapped back to W+),
                j drawn once per batch, |.| the absolute value of the probability change

Choices where the paper is silent (all in `FlowLossConfig`):
- lambda_lm: the paper names the weight but gives no value; default 0.1 (= its lambda_ap).
- alpha (edit strength in L_ap): not given; alpha ~ U(-ap_strength, ap_strength) per sample with
  ap_strength = 3 (InterFaceGAN's editing range for a unit normal).
- Eq. 2 has no margin constant and no bias: |w*^T d_i| is the distance to the hyperplane through
  the origin with normal d_i. `lm_use_bias=True` measures the distance to C_i's own hyperplane,
  |w*^T d_i + b_i / ||c_i|||, instead (identical when b_i = 0). Default: Eq. 2 as written. (With
  b_i != 0 the literal form can push a correctly classified sample lying between the two
  parallel hyperplanes towards C_i's wrong side.)
- Eq. 2 is unbounded below (correct samples are pushed away from the hyperplane without limit;
  the couplings' scales are Tanh-bounded, their shifts are not). The paper adds no cap and
  neither do we: lambda_lm and L_a / L_ap are what balance it.
- Eq. 3's double sum sum_i sum_{j != i} with j fixed per batch is sum over i != j.
- m_i is an indicator: no gradient flows through it.
- The paper writes C_i: W* -> {0, 1}, but Eq. 1 takes log C_i(.), i.e. the classifier's
  probability; Eq. 3 likewise uses the probabilities (a thresholded output has no gradient).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from latentjax.flow.realnvp import FlowConfig, forward, inverse


@dataclass(frozen=True)
class FlowLossConfig:
    lambda_lm: float = 0.1  # weight of L_lm; the paper gives no value (our choice)
    lambda_ap: float = 0.1  # weight of L_ap (paper Sec. 4)
    ap_strength: float = 3.0  # alpha ~ U(-ap_strength, ap_strength) in L_ap; not in the paper
    lm_use_bias: bool = False  # False: Eq. 2 literally (|w*^T d_i|); True: distance to C_i's hyperplane

    def __post_init__(self):
        for name in ("lambda_lm", "lambda_ap", "ap_strength"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and np.isfinite(v) and v >= 0):
                raise ValueError(f"FlowLossConfig.{name} must be a finite number >= 0, got {v!r}")


# ---- input checks (shapes always; values only when concrete, i.e. outside jit) ------------------


def is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def check_finite(name: str, x) -> None:
    """ValueError if a concrete array holds NaN or inf (a no-op on traced values)."""
    if is_concrete(x) and not bool(jnp.all(jnp.isfinite(jnp.asarray(x)))):
        raise ValueError(f"{name} contains NaN or inf")


def check_classifiers(clf_w, clf_b, dim: int) -> None:
    """clf_w must be [A, dim], clf_b [A], both finite."""
    if clf_w.ndim != 2 or clf_w.shape[1] != dim:
        raise ValueError(f"clf_w must be [A, D] = [A, {dim}], got shape {tuple(clf_w.shape)}")
    if clf_b.shape != (clf_w.shape[0],):
        raise ValueError(f"clf_b must be [A] = [{clf_w.shape[0]}], got shape {tuple(clf_b.shape)}")
    if clf_w.shape[0] == 0:
        raise ValueError("need at least one classifier (A >= 1)")
    check_finite("clf_w", clf_w)
    check_finite("clf_b", clf_b)
    if is_concrete(clf_w) and not bool(jnp.all(jnp.linalg.norm(jnp.asarray(clf_w, jnp.float32), axis=1) > 0)):
        raise ValueError("clf_w has an all-zero row: its hyperplane has no normal")


def as_flat(ws, dim: int, name: str = "ws") -> jax.Array:
    """ws [N, dim] or [N, num_ws, w_dim] with num_ws * w_dim = dim -> float32 [N, dim]."""
    ws = jnp.asarray(ws)
    if ws.ndim == 3:
        ws = ws.reshape(ws.shape[0], ws.shape[1] * ws.shape[2])
    if ws.ndim != 2 or ws.shape[1] != dim or ws.shape[0] == 0:
        raise ValueError(f"{name} must be [N, {dim}] or [N, num_ws, w_dim] with num_ws * w_dim = {dim}, N > 0")
    check_finite(name, ws)
    return ws.astype(jnp.float32)


# ---- pieces ----------------------------------------------------------------------------------------


def classifier_logits(x: jax.Array, clf_w: jax.Array, clf_b: jax.Array) -> jax.Array:
    """x [N, D] -> logits [N, A] of the linear classifiers C_i (probability = sigmoid)."""
    return x @ clf_w.T + clf_b


def unit_normals(clf_w: jax.Array) -> jax.Array:
    """clf_w [A, D] -> d [A, D]: unit normals of the classifiers' hyperplanes, + towards the positive class."""
    return clf_w / jnp.linalg.norm(clf_w, axis=1, keepdims=True)


def attribute_loss(wstar: jax.Array, labels: jax.Array, clf_w: jax.Array, clf_b: jax.Array) -> jax.Array:
    """Eq. 1: mean over samples of sum_i BCE(C_i(w*), y_i). wstar [N, D], labels [N, A] -> scalar."""
    y = labels.astype(jnp.float32)
    return optax.sigmoid_binary_cross_entropy(classifier_logits(wstar, clf_w, clf_b), y).sum(axis=1).mean()


def large_margin_loss(
    wstar: jax.Array, labels: jax.Array, clf_w: jax.Array, clf_b: jax.Array, use_bias: bool = False
) -> jax.Array:
    """Eq. 2: mean over samples of sum_i (-m_i |w*^T d_i| + (1 - m_i) |w*^T d_i|) -> scalar.

    m_i = 1 when C_i(w*) predicts y_i (logit > 0 <=> label 1), else 0; |w*^T d_i| is the distance
    to the hyperplane through 0 with unit normal d_i (use_bias: to C_i's hyperplane itself).
    Correct samples are pushed away from the hyperplane, wrong ones towards it.
    """
    dist = wstar @ unit_normals(clf_w).T  # [N, A]
    if use_bias:
        dist = dist + clf_b / jnp.linalg.norm(clf_w, axis=1)
    correct = jax.lax.stop_gradient((classifier_logits(wstar, clf_w, clf_b) > 0) == labels.astype(bool))
    return jnp.where(correct, -jnp.abs(dist), jnp.abs(dist)).sum(axis=1).mean()


def attribute_preservation_loss(
    params: dict,
    w: jax.Array,
    wstar: jax.Array,
    clf_w: jax.Array,
    clf_b: jax.Array,
    j: jax.Array,
    alpha: jax.Array,
    *,
    cfg: FlowConfig,
) -> jax.Array:
    """Eq. 3: mean over samples of sum_{i != j} |C_i(w) - C_i(w_hat)|, w_hat = T^-1(w* + alpha d_j).

    w, wstar = T(w): [N, D]; j: int scalar (the edited attribute); alpha: [N] edit strengths.
    C_i are applied in W+ (to w and to w_hat, the edited code mapped back to W+), as the paper
    says: T must preserve the other attributes "when mapping the latent code back to W+".
    """
    d_j = unit_normals(clf_w)[j]  # [D]
    w_hat, _ = inverse(params, wstar + alpha[:, None] * d_j[None, :], cfg=cfg)
    p_before = jax.nn.sigmoid(classifier_logits(w, clf_w, clf_b))  # [N, A]; no dependence on T
    p_after = jax.nn.sigmoid(classifier_logits(w_hat, clf_w, clf_b))
    others = jnp.arange(clf_w.shape[0]) != j  # [A]
    return jnp.where(others, jnp.abs(p_before - p_after), 0.0).sum(axis=1).mean()


def flow_loss(
    params: dict,
    batch_ws: jax.Array,
    labels: jax.Array,
    clf_w: jax.Array,
    clf_b: jax.Array,
    key: jax.Array,
    *,
    cfg: FlowConfig,
    loss_cfg: FlowLossConfig,
) -> tuple[jax.Array, dict]:
    """L_W* = L_a + lambda_lm L_lm + lambda_ap L_ap (paper Sec. 3, last equation) -> (total, parts).

    batch_ws [N, D] (or [N, num_ws, w_dim]); labels [N, A] (bool or {0, 1}); clf_w [A, D]; clf_b [A];
    key: draws the edited attribute j (one per batch, Sec. 3) and the strengths alpha [N].
    parts: {"total", "attribute", "margin", "preservation", "accuracy" (C_i's accuracy in W*)}.
    Shapes are checked always, values (NaN / inf) when called outside a trace.
    """
    w = as_flat(batch_ws, cfg.dim, "batch_ws")
    labels, clf_w, clf_b = jnp.asarray(labels), jnp.asarray(clf_w), jnp.asarray(clf_b)
    check_classifiers(clf_w, clf_b, cfg.dim)
    if labels.shape != (w.shape[0], clf_w.shape[0]):
        raise ValueError(f"labels must be [N, A] = [{w.shape[0]}, {clf_w.shape[0]}], got shape {tuple(labels.shape)}")
    check_finite("labels", labels)
    return _flow_loss(params, w, labels, clf_w.astype(jnp.float32), clf_b.astype(jnp.float32), key, cfg, loss_cfg)


@functools.partial(jax.jit, static_argnums=(6, 7))
def _flow_loss(params, w, labels, clf_w, clf_b, key, cfg: FlowConfig, loss_cfg: FlowLossConfig):
    wstar, _ = forward(params, w, cfg=cfg)
    l_a = attribute_loss(wstar, labels, clf_w, clf_b)
    l_lm = large_margin_loss(wstar, labels, clf_w, clf_b, loss_cfg.lm_use_bias)
    kj, ka = jax.random.split(key)
    j = jax.random.randint(kj, (), 0, clf_w.shape[0])
    alpha = jax.random.uniform(ka, (w.shape[0],), jnp.float32, -loss_cfg.ap_strength, loss_cfg.ap_strength)
    l_ap = attribute_preservation_loss(params, w, wstar, clf_w, clf_b, j, alpha, cfg=cfg)
    total = l_a + loss_cfg.lambda_lm * l_lm + loss_cfg.lambda_ap * l_ap
    acc = jnp.mean(((classifier_logits(wstar, clf_w, clf_b) > 0) == labels.astype(bool)).astype(jnp.float32))
    return total, {"total": total, "attribute": l_a, "margin": l_lm, "preservation": l_ap, "accuracy": acc}
