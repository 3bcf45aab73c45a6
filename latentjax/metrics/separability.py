"""Linear separability of attributes in a latent space (StyleGAN paper, Sec. 4.2), two engines.

The protocol is NVIDIA's `metrics/linear_separability.py` (StyleGAN v1 repository), step by step,
for each attribute a with classifier probabilities p = probs[:, a]:

1. keep the num_keep = N // 2 samples the classifier is most confident about, confidence
   max(p, 1 - p). NVIDIA sorts with Python's stable `sorted(key=-max(softmax))`; here a stable
   argsort of -|p - 0.5| (the same order, computed exactly in float64), so ties keep sample order.
   With exact bool labels every sample is equally confident: the first N // 2 samples are kept;
2. label y = p > 0.5 (NVIDIA's argmax over two classes: an exact tie goes to class 0);
3. fit a linear SVM to the kept latents and predict the SAME kept latents (NVIDIA scores on the
   training set); if the kept labels hold a single class the SVM cannot be fitted and NVIDIA
   assumes perfect prediction (svm_outputs = targets), which gives H = 0: done here too, and
   recorded in `SeparabilityResult.fallback`;
4. joint p(x = SVM prediction, y = label) [2, 2] over the kept samples, H_a = H(Y | X).

score = exp(sum_a H_a) with H in nats, which is NVIDIA's 2 ** sum_a H_a with H in bits (each
term is scaled by ln 2 and the base changes with it). Per attribute exp(H_a) lies in [1, 2]:
1 when the label is a linear function of the latent, 2 when the SVM says nothing about a
balanced label. The caller picks the space: Z, or W (NVIDIA uses the last row of W+, ws[:, -1]).

Engines, same objective (sklearn's LinearSVC defaults, NVIDIA's `LinearSVC()`):
    0.5 ||[w, b]||^2 + C sum_i loss(y_i (w . x_i + b)),  y_i in {-1, +1},
loss = squared hinge max(0, 1 - z)^2 (default) or logistic log(1 + exp(-z)). liblinear appends a
constant feature 1 (intercept_scaling=1) whose weight is the bias, so the bias IS regularised;
both engines do that. Nothing is standardised (NVIDIA doesn't).

- "sklearn" (reference): one `LinearSVC(C, max_iter, tol, dual="auto")` per attribute (or
  liblinear `LogisticRegression` for loss="logistic"), float64. dual="auto" solves the primal
  when num_keep > D (NVIDIA's sklearn defaulted to the dual, same optimum) and avoids warnings.
- "jax": all attributes in one jit, float32, on device. Each attribute's kept subset is a 0/1
  weight row of a mask [A, N], so shapes are fixed. Solver: Newton's method (the generalised
  Hessian of the squared hinge, Keerthi & DeCoste 2005), as liblinear's primal solver but with
  exact Cholesky solves, Jacobi scaled, and an exact line search (safeguarded 1-D Newton /
  bisection on the directional derivative); latents are centred internally with the bias
  reparametrised so the objective (regularised bias included) is unchanged. Cost per Newton
  step: A Hessians, formed one attribute at a time over the rows with a non-zero Hessian weight
  only (kept by the mask and, for the squared hinge, inside the margin: `_active_hessian`),
  O(A N_active (D+1)^2) flops, where the scores and gradients cost O(A N (D+1)); typically 5-15
  steps. For the squared hinge, whose Hessian weights are 0 or 2C, a step's Hessian is the last
  one plus the rows that entered the margin minus those that left, where they are fewer. From
  N >= 20k rows the solver is warm-started by the same problem on every 8th row (a random
  subsample, as the samples are i.i.d.) solved to a loose tolerance. With several local devices
  the N rows are split over them (`latentjax.sharding.split_rows`, padding rows get mask 0), the
  Hessians sum every row (masked) and the sums over N become all-reduces; Hessians [A, D+1, D+1]
  are replicated. Timings against sklearn (same run): BENCHMARKS.md. The work is large dense
  matmuls, so D = 512 belongs on a GPU.

Several processes (`latentjax.distributed`): every process holds all N rows and the attributes
are split: "jax" over the global device mesh (every process's devices, shard_map over the attribute
axis), "sklearn" process by process; the fits are gathered at the end. Attributes are independent
problems, so there is no collective inside the solver and the score does not depend on the number
of processes.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from latentjax.errors import InputError
from latentjax.sharding import device_padding, pad_rows, split_rows

ENGINES = ("sklearn", "jax")
# The library's and the CLI's default engine (one jit; within 2% of liblinear's score in
# tests/test_cli_metrics.py); "sklearn" stays the reference.
DEFAULT_ENGINE = "jax"
LOSSES = ("squared_hinge", "logistic")
DEFAULT_MAX_ITER = {"sklearn": 1000, "jax": 50}  # liblinear iterations (sklearn default) / Newton steps
DEFAULT_TOL = {"sklearn": 1e-4, "jax": 1e-5}  # liblinear's tol / relative gradient norm ||g|| / ||g(0)||
_HIGHEST = jax.lax.Precision.HIGHEST  # no TF32 / bf16 passes in the float32 matmuls on GPU


@dataclass(frozen=True)
class SeparabilityResult:
    score: float  # exp(sum_a H_a) == NVIDIA's 2 ** (sum_a H_a in bits)
    entropies: np.ndarray  # [A] float64, H(Y|X) in nats per attribute
    per_attribute: np.ndarray  # [A] float64, exp(H_a) in [1, 2]
    svm_accuracy: np.ndarray  # [A] float64, SVM accuracy on the kept samples (its training set)
    num_keep: int  # samples kept per attribute
    engine: str
    attributes: tuple[str, ...] | None
    fallback: np.ndarray  # [A] bool: single kept class, no SVM, perfect prediction assumed (NVIDIA)
    coef: np.ndarray  # [A, D] float64, SVM decision = latents @ coef[a] + intercept[a]; zeros where fallback
    intercept: np.ndarray  # [A] float64

    @property
    def entropies_bits(self) -> np.ndarray:
        """[A] H(Y|X) in bits, NVIDIA's unit."""
        return self.entropies / np.log(2.0)


# --------------------------------------------------------------------------- pure helpers


def conditional_entropy(joint) -> float | np.ndarray:
    """H(Y | X) in nats of a joint distribution (or counts) joint[..., x, y]: [K, L] -> float, [..., K, L] -> [...].

    NVIDIA's `conditional_entropy` computes H(Y) - I(X; Y) in bits (float32, clipped at 0); this
    is the same quantity summed directly, -sum p(x, y) ln(p(x, y) / p(x)), in float64, never < 0.
    """
    p = np.asarray(joint, np.float64)
    if p.ndim < 2:
        raise ValueError(f"joint must be [..., K, L], got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("joint contains NaN or inf")
    if np.any(p < 0):
        raise ValueError("joint must be non-negative")
    total = p.sum(axis=(-2, -1), keepdims=True)
    if np.any(total <= 0):
        raise ValueError("joint must have a positive sum")
    p = p / total
    px = p.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # p(x, y) > 0 implies p(x) > 0; the rest is masked
        terms = np.where(p > 0, p * np.log(p / px), 0.0)
    h = np.maximum(-terms.sum(axis=(-2, -1)), 0.0)
    return float(h) if h.ndim == 0 else h


def keep_count(n: int, keep_fraction: float = 0.5) -> int:
    """floor(n * keep_fraction) (N // 2 by default, NVIDIA's num_keep = num_samples / 2); at least 2."""
    if not 0.0 < keep_fraction <= 1.0:
        raise ValueError(f"keep_fraction must be in (0, 1], got {keep_fraction}")
    k = math.floor(n * keep_fraction + 1e-9)  # 1e-9: 0.29 * 100 is 28.999... in floating point
    if k < 2:
        raise ValueError(f"keep_fraction={keep_fraction} of N={n} keeps {k} samples; need at least 2")
    return k


def confident_subset(probs, keep_fraction: float = 0.5) -> np.ndarray:
    """Indices of the most confident samples per attribute, most confident first.

    probs: [N, A] (or [N]) probabilities of the positive class, or bool labels.
    Returns [A, K] int64 (or [K] for 1-D probs), K = keep_count(N, keep_fraction). Confidence is
    max(p, 1 - p), ordered by a stable sort: equally confident samples keep their order (NVIDIA's
    stable `sorted`), so bool labels keep the first K samples. The 0/1 mask of attribute a is
    `np.zeros(N, bool)` with `mask[idx[a]] = True`.
    """
    p = _validate_probs(probs, None)
    order = np.argsort(-np.abs(p - 0.5), axis=0, kind="stable")  # |p - 0.5| is exact in float64
    idx = np.ascontiguousarray(order[: keep_count(p.shape[0], keep_fraction)].T)
    return idx[0] if np.ndim(probs) == 1 else idx


def _validate_latents(latents) -> np.ndarray:
    x = np.asarray(latents)
    if x.ndim != 2:
        hint = " (for W+ codes pass ws[:, -1], NVIDIA's choice)" if x.ndim == 3 else ""
        raise InputError(f"latents must be [N, D], got shape {x.shape}{hint}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise InputError(f"latents must be numeric, got dtype {x.dtype}")
    if x.dtype not in (np.float32, np.float64):  # float32 stays: both engines widen where they need it
        x = x.astype(np.float64)
    if x.shape[0] < 4:
        raise InputError(f"need N >= 4 samples, got N = {x.shape[0]}")
    if x.shape[1] == 0:
        raise InputError("latents must have D >= 1 dimensions")
    if not np.all(np.isfinite(x)):
        raise InputError("latents contains NaN or inf")
    return x


def _validate_probs(probs, n: int | None) -> np.ndarray:
    """probs [N] or [N, A] (float in [0, 1] or bool) -> float64 [N, A]."""
    p = np.asarray(probs)
    if p.ndim == 1:
        p = p[:, None]
    if p.ndim != 2 or p.shape[1] == 0:
        raise InputError(f"probs must be [N, A] with A >= 1, got shape {np.shape(probs)}")
    if n is not None and p.shape[0] != n:
        raise InputError(f"probs must be [N, A] with N = {n} (the latents' rows), got shape {np.shape(probs)}")
    if n is None and p.shape[0] < 4:
        raise InputError(f"need N >= 4 samples, got N = {p.shape[0]}")
    if not (p.dtype == bool or np.issubdtype(p.dtype, np.floating) or np.issubdtype(p.dtype, np.integer)):
        raise InputError(f"probs must be probabilities or bool labels, got dtype {p.dtype}")
    p = p.astype(np.float64)
    if not np.all(np.isfinite(p)):
        raise InputError("probs contains NaN or inf")
    if np.any((p < 0) | (p > 1)):
        raise InputError(f"probs must lie in [0, 1], got range [{p.min():g}, {p.max():g}]")
    return p


# --------------------------------------------------------------------------- engines


def _fit_sklearn(x, idx, labels, loss: str, C: float, max_iter: int, tol: float):
    """x [N, D] float32 or float64, idx [A, K], labels [N, A] bool
    -> (joint counts [A, 2, 2], coef [A, D], intercept [A])."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    num_attr, d = idx.shape[0], x.shape[1]
    joints = np.zeros((num_attr, 2, 2), np.int64)
    coef, intercept = np.zeros((num_attr, d)), np.zeros(num_attr)
    for a in range(num_attr):
        xa, ya = x[idx[a]], labels[idx[a], a]
        if ya.all() or not ya.any():
            pred = ya  # NVIDIA: LinearSVC raises on one class -> "assume perfect prediction"
        else:
            if loss == "squared_hinge":
                model = LinearSVC(C=C, max_iter=max_iter, tol=tol, dual="auto")
            else:  # liblinear also regularises the bias here (intercept_scaling=1), as the JAX engine
                model = LogisticRegression(C=C, solver="liblinear", max_iter=max_iter, tol=tol)
            model.fit(xa, ya.astype(np.int64))
            pred = model.decision_function(xa) > 0  # == predict(): classes_ = [0, 1]
            coef[a], intercept[a] = model.coef_[0], model.intercept_[0]
        np.add.at(joints[a], (pred.astype(np.int64), ya.astype(np.int64)), 1)
    return joints, coef, intercept


def _loss_derivs(z: jax.Array, loss: str):
    """Per-sample loss l(z), l'(z), l''(z) of the margin z = y * score (generalised l'' for the squared hinge)."""
    if loss == "squared_hinge":
        r = jnp.maximum(1.0 - z, 0.0)
        return r * r, -2.0 * r, 2.0 * (z < 1.0).astype(z.dtype)
    s = jax.nn.sigmoid(z)
    return jax.nn.softplus(-z), s - 1.0, s * (1.0 - s)


def _mm(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.matmul(a, b, precision=_HIGHEST)


_HESS_CHUNK = 4096  # rows per Hessian block
_WARM_MIN_ROWS, _WARM_STRIDE, _WARM_TOL = 20_000, 8, 1e-3  # `_newton_fit`'s warm start


def _active_hessian(xt_pad: jax.Array, w: jax.Array) -> jax.Array:
    """sum_i w_i x_i x_i^T over the rows with w_i != 0 only: xt_pad [N + 1, D + 1] (last row
    zero), w [N] -> [D + 1, D + 1].

    The rows with w_i != 0 (kept by the mask and, for the squared hinge, inside the margin; or
    for an update, the rows that entered (+) or left (-) the margin) are gathered first
    (`jnp.nonzero`, O(N)) and summed in blocks of B rows until they run out, so a Newton step
    costs flops in proportion to those rows, not to N: half of N are masked out (NVIDIA keeps
    the confident half), and near-separable attributes have few margin violators.
    """
    xt_pad, w = jnp.asarray(xt_pad), jnp.asarray(w)
    n = w.shape[0]
    b = _HESS_CHUNK
    n_blocks = -(-n // b)
    rows = jnp.nonzero(w != 0, size=n_blocks * b, fill_value=n)[0]  # active first, then the zero row
    count = jnp.sum(w != 0)
    w_pad = jnp.concatenate([w, jnp.zeros((1,), w.dtype)])

    def body(state):
        k, h = state
        r = jax.lax.dynamic_slice(rows, (k * b,), (b,))
        xk = xt_pad[r]
        return k + 1, h + _mm(xk.T, xk * w_pad[r][:, None])

    d1 = xt_pad.shape[1]
    _, h = jax.lax.while_loop(lambda s: s[0] * b < count, body, (0, jnp.zeros((d1, d1), xt_pad.dtype)))
    return h


@functools.partial(jax.jit, static_argnames=("loss", "max_iter", "active_rows"))
def _newton_fit(xc, mu, labels, mask, c, tol, *, loss: str, max_iter: int, active_rows: bool = True):
    """All attributes' regularised-bias linear classifiers at once, by Newton's method.

    xc [N, D] float32 centred latents (x - mu), mu [D] float32, labels [A, N] float32 in {-1, +1},
    mask [A, N] float32 0/1 (the kept samples of each attribute), c, tol float32 scalars.
    Returns (coef [A, D], intercept [A] for raw latents, joint counts [A, 2, 2] int32 of
    (prediction, label) over the kept samples, Newton steps taken on all N rows (after the warm
    start's on a subsample, for N >= _WARM_MIN_ROWS), converged [A] bool).

    Centred parametrisation v = [w, b + w . mu] (scores = [xc, 1] . v): liblinear's regulariser
    0.5 (||w||^2 + b^2) becomes 0.5 v^T R v with R = diag(1, .., 1, 0) + u u^T, u = [-mu, 1]
    (b = u . v). Newton's method is affine invariant, so only the rounding changes: centring
    takes the mean out of the Hessian's largest direction.
    """
    f32 = jnp.float32
    n, d = xc.shape
    xt = jnp.concatenate([xc, jnp.ones((n, 1), f32)], axis=1)  # [N, D + 1]
    e = jnp.concatenate([jnp.ones((d,), f32), jnp.zeros((1,), f32)])
    u = jnp.concatenate([-mu, jnp.ones((1,), f32)])
    reg_hess = jnp.diag(e) + jnp.outer(u, u)

    def solve(xt, labels, mask, c, tol, v0):
        """Newton from v0 [A, D + 1] on rows xt [M, D + 1] -> (v, done [A], steps); converged when
        ||g|| <= tol ||g(0)||, g(0) the gradient at v = 0 of this problem."""
        lab_mask = labels * mask
        xt_pad = jnp.concatenate([xt, jnp.zeros((1, d + 1), f32)])  # last row zero: `_active_hessian`'s fill

        def reg_grad(v):  # R v, v [A, D + 1]
            return v * e + (v @ u)[:, None] * u

        def scores(v):  # [A, N]
            return _mm(v, xt.T)

        def gradient(v, z):
            return reg_grad(v) + c * _mm(lab_mask * _loss_derivs(z, loss)[1], xt)

        def newton_direction(h, g):  # Jacobi-scaled Cholesky solve of h d = -g
            s = jax.lax.rsqrt(jnp.diagonal(h))
            chol = jnp.linalg.cholesky(h * s[:, None] * s[None, :])
            step = -s * jax.scipy.linalg.cho_solve((chol, True), s * g)
            return jnp.where(jnp.all(jnp.isfinite(step)), step, -g / jnp.diagonal(h))  # f32 breakdown: scaled gradient

        def line_search(v, g, dirn, z0, zq, skip):
            """Exact minimiser t of phi(t) = f(v + t dirn) per attribute: safeguarded 1-D Newton on phi'
            (convex). skip [A] bool: attributes already done (t is not used), not iterated on.

            phi'(t) is a float32 sum of N terms, so it is known only to about 1e-7 sqrt(N) of the sum of
            their magnitudes: t is final once |phi'(t)| is below 1e-5 of that sum (a finer target is
            rounding noise, which kept the search at its 60-iteration cap on half the steps)."""
            rv, rd = jnp.sum(dirn * reg_grad(v), 1), jnp.sum(dirn * reg_grad(dirn), 1)
            dphi0 = jnp.sum(g * dirn, 1)

            def derivs(t):
                _, dl, d2l = _loss_derivs(z0 + t[:, None] * zq, loss)
                terms = mask * zq * dl
                dp = rv + t * rd + c * jnp.sum(terms, 1)
                scale = jnp.abs(rv) + jnp.abs(t * rd) + c * jnp.sum(jnp.abs(terms), 1)
                return dp, rd + c * jnp.sum(mask * zq * zq * d2l, 1), scale

            def body(state):
                t, lo, hi, done, k = state
                dp, d2p, scale = derivs(t)
                at_noise = jnp.abs(dp) <= 1e-5 * scale
                stop = done | at_noise | (jnp.abs(dp) <= 1e-6 * jnp.abs(dphi0)) | (hi - lo <= 1e-7 * t)
                lo, hi = jnp.where(dp < 0, t, lo), jnp.where(dp > 0, t, hi)
                tn = t - dp / d2p
                fallback = jnp.where(jnp.isfinite(hi), 0.5 * (lo + hi), 2.0 * t)
                t_next = jnp.where((tn > lo) & (tn < hi), tn, fallback)
                return jnp.where(stop, t, t_next), lo, hi, stop, k + 1

            a = v.shape[0]
            init = (
                jnp.ones((a,), f32),
                jnp.zeros((a,), f32),
                jnp.full((a,), jnp.inf, f32),
                skip,
                jnp.int32(0),
            )
            t, *_ = jax.lax.while_loop(lambda s: (s[4] < 60) & ~jnp.all(s[3]), body, init)
            return t

        def newton_step(state):
            v, done, g0, k, h_data, w_prev = state
            o = scores(v)
            z = labels * o
            g = gradient(v, z)
            gnorm = jnp.linalg.norm(g, axis=1)
            converged = gnorm <= tol * g0
            weights = c * mask * _loss_derivs(z, loss)[2]  # [A, N]
            if active_rows:  # one device: only rows with weight != 0 (gathers would cross devices)
                if loss == "squared_hinge":
                    # The weights take two values (0 inside the margin, 2c outside), and after the first
                    # steps few rows cross the margin: add the rows that entered and subtract the ones
                    # that left (Keerthi & DeCoste's update) where they are fewer than the active rows.
                    delta = weights - w_prev
                    update = jnp.sum(delta != 0, 1) < jnp.sum(weights != 0, 1)
                    part = jax.lax.map(lambda w: _active_hessian(xt_pad, w), jnp.where(update[:, None], delta, weights))
                    h_data = jnp.where(update[:, None, None], h_data + part, part)
                else:
                    h_data = jax.lax.map(lambda w: _active_hessian(xt_pad, w), weights)
            else:  # rows split over devices: every row, masked (one [N, D+1] scratch)
                h_data = jax.lax.map(lambda w: _mm(xt.T, xt * w[:, None]), weights)
            hess = h_data + reg_hess
            dirn = jax.vmap(newton_direction)(hess, g)
            t = line_search(v, g, dirn, z, labels * scores(dirn), done | converged)
            step = t[:, None] * dirn
            stalled = jnp.linalg.norm(step, axis=1) <= 1e-7 * jnp.linalg.norm(v, axis=1)  # below float32 resolution
            v = jnp.where((done | converged)[:, None], v, v + step)
            return v, done | converged | stalled, g0, k + 1, h_data, weights

        a = labels.shape[0]
        g0 = jnp.linalg.norm(gradient(jnp.zeros_like(v0), jnp.zeros_like(labels)), axis=1)
        init = (v0, g0 == 0, g0, jnp.int32(0), jnp.zeros((a, d + 1, d + 1), f32), jnp.zeros_like(mask))
        v, done, _, steps, *_ = jax.lax.while_loop(lambda s: (s[3] < max_iter) & ~jnp.all(s[1]), newton_step, init)
        return v, done, steps

    v_start = jnp.zeros((labels.shape[0], d + 1), f32)
    if n >= _WARM_MIN_ROWS:
        # Warm start: the same problem on every _WARM_STRIDE-th row (the samples are i.i.d., so a
        # stride is a random subsample; C scaled up so the data term keeps its weight), solved to a
        # loose tolerance at 1/_WARM_STRIDE of the cost. The full-data steps then start next to
        # the optimum: fewer of them, and each Hessian is an update over the rows that move.
        k = _WARM_STRIDE
        v_start, _, _ = solve(xt[::k], labels[:, ::k], mask[:, ::k], c * k, jnp.maximum(tol, _WARM_TOL), v_start)
    v, done, steps = solve(xt, labels, mask, c, tol, v_start)

    pred = _mm(v, xt.T) > 0  # sklearn's predict: decision > 0 -> class 1
    keep = mask > 0
    px = jnp.stack([~pred & keep, pred & keep], axis=1)  # [A, 2, N]
    py = jnp.stack([labels < 0, labels > 0], axis=1)
    joint = jnp.sum(px[:, :, None, :] & py[:, None, :, :], axis=-1, dtype=jnp.int32)  # [A, 2, 2]
    w = v[:, :d]
    return w, v @ u, joint, steps, done


def _centred(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x [N, D] float32 or float64 -> (x - mu as float32 [N, D], mu float64 [D]); mu is summed in
    float64, the difference taken in float32 (one rounding of x and mu each: far below the solver's
    tolerance, and no [N, D] float64 temporary: half the time of the former float64 route)."""
    mu = x.mean(axis=0, dtype=np.float64)
    return np.subtract(x, mu.astype(np.float32), dtype=np.float32), mu


def _fit_jax(x, idx, labels, loss: str, C: float, max_iter: int, tol: float):
    """Same contract as `_fit_sklearn`, all attributes in one jit (rows split over local devices)."""
    n, d = x.shape
    num_attr = idx.shape[0]
    xc, mu = _centred(x)
    mask = np.zeros((num_attr, n), np.float32)
    mask[np.arange(num_attr)[:, None], idx] = 1.0
    signs = np.where(labels.T, 1.0, -1.0).astype(np.float32)  # [A, N]
    pad = device_padding(n)  # padding rows carry mask 0 so they change no sum
    xc, mask, signs = pad_rows(xc, pad, value=0), pad_rows(mask, pad, 1, 0), pad_rows(signs, pad, 1, 1)
    xc, (mask, signs) = split_rows(xc, n + pad), split_rows((mask, signs), n + pad, axis=1)
    w, b, joint, _, done = _newton_fit(
        jnp.asarray(xc),
        jnp.asarray(mu, jnp.float32),
        jnp.asarray(signs),
        jnp.asarray(mask),
        jnp.float32(C),
        jnp.float32(tol),
        loss=loss,
        max_iter=max_iter,
        active_rows=jax.local_device_count() == 1,
    )
    if not bool(np.all(np.asarray(done))):
        warnings.warn(
            f"JAX Newton solver reached max_iter={max_iter} before converging for some attributes; increase max_iter",
            RuntimeWarning,
            stacklevel=3,
        )
    return np.asarray(joint, np.int64), np.asarray(w, np.float64), np.asarray(b, np.float64)


def _fit_jax_global(x, idx, labels, loss: str, C: float, max_iter: int, tol: float):
    """`_fit_jax` over every process's devices (`latentjax.sharding.global_mesh`): the attribute axis
    is split over the mesh, the N rows replicated, and each device runs the Newton solver on its
    attributes alone (shard_map; no collective inside the loop, so each attribute is solved as by one
    process). Attributes are padded to a multiple of the devices with mask-0 rows, done at step 0."""
    from jax.experimental import multihost_utils

    from latentjax.distributed import collective
    from latentjax.sharding import global_mesh

    mesh = global_mesh("attr")
    n, d = x.shape
    num_attr = idx.shape[0]
    padded = -(-num_attr // mesh.size) * mesh.size
    xc, mu = _centred(x)
    mask = np.zeros((padded, n), np.float32)
    mask[np.arange(num_attr)[:, None], idx] = 1.0
    signs = np.ones((padded, n), np.float32)
    signs[:num_attr] = np.where(labels.T, 1.0, -1.0)
    rep, split = NamedSharding(mesh, PartitionSpec()), NamedSharding(mesh, PartitionSpec("attr"))

    def put(a, sharding):  # each process supplies the blocks of its own devices (it holds all of `a`)
        a = np.asarray(a)
        return jax.make_array_from_callback(a.shape, sharding, lambda i: a[i])

    def local_fit(xc, mu, signs, mask, c, t):
        w, b, joint, _, done = _newton_fit(xc, mu, signs, mask, c, t, loss=loss, max_iter=max_iter)
        return w, b, joint, done

    fit = jax.jit(
        jax.shard_map(
            local_fit,
            mesh=mesh,
            in_specs=(PartitionSpec(), PartitionSpec(), PartitionSpec("attr"), PartitionSpec("attr"))
            + (PartitionSpec(), PartitionSpec()),
            out_specs=PartitionSpec("attr"),
            check_vma=False,  # the solver's loop carries are per-device values; nothing crosses devices
        )
    )
    with collective("the separability fits"):
        outs = fit(
            put(xc, rep),
            put(mu.astype(np.float32), rep),
            put(signs, split),
            put(mask, split),
            put(np.float32(C), rep),
            put(np.float32(tol), rep),
        )
        w, b, joint, done = (np.asarray(multihost_utils.process_allgather(o, tiled=True)) for o in outs)
    if not bool(np.all(done[:num_attr])):
        warnings.warn(
            f"JAX Newton solver reached max_iter={max_iter} before converging for some attributes; increase max_iter",
            RuntimeWarning,
            stacklevel=3,
        )
    return (
        joint[:num_attr].astype(np.int64),
        w[:num_attr].astype(np.float64),
        b[:num_attr].astype(np.float64),
    )


def _fit_split_attributes(fit, x, idx, labels, loss, C, max_iter, tol):
    """`fit` over several processes: each fits every process_count-th attribute on all rows, then the
    [A, 2, 2] joints and coefficients are gathered. Attributes are independent problems, so each is
    solved exactly as by one process (no cross-process sums in the Newton steps: the only
    collective is one gather of A * (D + 5) numbers at the end)."""
    from latentjax.distributed import allgather_arrays
    from latentjax.sharding import process_items

    num_attr, d = idx.shape[0], x.shape[1]
    mine = np.asarray(process_items(range(num_attr)), np.int64)
    if len(mine):
        joints, coef, intercept = fit(x, idx[mine], labels[:, mine], loss, C, max_iter, tol)
    else:  # more processes than attributes
        joints, coef, intercept = np.zeros((0, 2, 2), np.int64), np.zeros((0, d)), np.zeros((0,))
    parts = allgather_arrays(
        {"attr": mine, "joints": joints, "coef": coef, "intercept": intercept}, "gathering separability fits"
    )
    order = np.argsort(parts["attr"])
    return parts["joints"][order], parts["coef"][order], parts["intercept"][order]


# --------------------------------------------------------------------------- public entry point


def linear_separability(
    latents,
    probs,
    *,
    engine: str = DEFAULT_ENGINE,
    keep_fraction: float = 0.5,
    C: float = 1.0,
    loss: str = "squared_hinge",
    max_iter: int | None = None,
    tol: float | None = None,
    attributes: Sequence[str] | None = None,
) -> SeparabilityResult:
    """NVIDIA's linear separability of `probs`' attributes in the space of `latents`.

    latents: [N, D] (Z, or W = ws[:, -1]); probs: [N, A] (or [N]) classifier probabilities of
    the positive class in [0, 1], or exact bool labels (all equally confident: the first
    num_keep samples are kept). engine: "jax" (default: one jit, float32, Newton) or "sklearn"
    (the reference, liblinear float64). keep_fraction: kept share per attribute (NVIDIA: 0.5 -> N // 2).
    C, loss ("squared_hinge" = LinearSVC, "logistic"): the SVM objective (module docstring).
    max_iter / tol: liblinear's (default 1000 / 1e-4, sklearn's) for "sklearn"; Newton steps /
    relative gradient norm (default 50 / 1e-5) for "jax". attributes: A names, kept in the result.
    """
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {ENGINES}, got {engine!r}")
    if loss not in LOSSES:
        raise InputError(f"loss must be one of {LOSSES}, got {loss!r}")
    if not C > 0:
        raise InputError(f"C must be > 0, got {C}")
    x = _validate_latents(latents)
    p = _validate_probs(probs, x.shape[0])
    if attributes is not None:
        attributes = tuple(str(s) for s in attributes)
        if len(attributes) != p.shape[1]:
            raise InputError(f"{len(attributes)} attribute names for A = {p.shape[1]} attributes")
    max_iter = DEFAULT_MAX_ITER[engine] if max_iter is None else int(max_iter)
    tol = DEFAULT_TOL[engine] if tol is None else float(tol)
    if max_iter < 1 or not tol > 0:
        raise InputError(f"need max_iter >= 1 and tol > 0, got {max_iter}, {tol}")

    idx = confident_subset(p, keep_fraction)  # [A, K]
    labels = p > 0.5  # NVIDIA's argmax: p == 0.5 -> class 0
    fit = _fit_sklearn if engine == "sklearn" else _fit_jax
    if jax.process_count() == 1:
        joints, coef, intercept = fit(x, idx, labels, loss, C, max_iter, tol)
    elif engine == "jax":
        joints, coef, intercept = _fit_jax_global(x, idx, labels, loss, C, max_iter, tol)
    else:
        joints, coef, intercept = _fit_split_attributes(fit, x, idx, labels, loss, C, max_iter, tol)

    kept = np.take_along_axis(labels, idx.T, axis=0)  # [K, A]
    fallback = kept.all(axis=0) | ~kept.any(axis=0)
    joints[fallback] = 0  # NVIDIA: svm_outputs = svm_targets (only the diagonal)
    joints[fallback, 1, 1] = kept[:, fallback].sum(axis=0)
    joints[fallback, 0, 0] = idx.shape[1] - joints[fallback, 1, 1]
    coef[fallback], intercept[fallback] = 0.0, 0.0

    entropies = np.atleast_1d(conditional_entropy(joints))
    accuracy = np.trace(joints, axis1=1, axis2=2) / idx.shape[1]
    arrays = [entropies, np.exp(entropies), accuracy.astype(np.float64), fallback, coef, intercept]
    for arr in arrays:
        arr.setflags(write=False)
    return SeparabilityResult(
        score=float(np.exp(entropies.sum())),
        entropies=arrays[0],
        per_attribute=arrays[1],
        svm_accuracy=arrays[2],
        num_keep=int(idx.shape[1]),
        engine=engine,
        attributes=attributes,
        fallback=arrays[3],
        coef=arrays[4],
        intercept=arrays[5],
    )
