"""One linear logistic classifier per attribute, all attributes fitted at once in JAX.

The vectorised counterpart of looping `logistic_direction` over attributes (paper 000 Sec. 4.2,
InterFaceGAN's per-attribute boundaries): weights [D, A] and biases [A] are one pytree, the
objective is the sum of the A independent per-attribute objectives (so its optimum is each
attribute's own optimum), and the whole fit is one jit-compiled `lax.scan`.

Objective per attribute a, in scikit-learn's parametrisation (same C means the same optimum):
    mean_i BCE(x_i . w_a + b_a, y_ia) + penalty(w_a) / (C N),
penalty = ||w||_2^2 / 2 ("l2"), ||w||_1 ("l1") or 0 ("none"); the bias is never penalised.
Latents are centred internally (the bias absorbs the shift, so the problem is unchanged and
better conditioned); weights are returned for raw latents.

Optimisers: "lbfgs" (optax L-BFGS with zoom line search, full batch) and "adam" (optax Adam,
full batch or minibatches of `batch_size`) for the smooth penalties; "fista" (accelerated
proximal gradient, Beck & Teboulle 2009, step 1 / Lipschitz bound, full batch) for L1, because
(sub)gradient steps never land exactly on zero and the point of L1 here is exact sparsity.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

PENALTIES = ("l2", "l1", "none")
OPTIMIZERS = ("lbfgs", "adam", "fista")
DEFAULT_STEPS = {"lbfgs": 100, "adam": 1000, "fista": 1000}
DEFAULT_OPTIMIZER = {"l2": "lbfgs", "none": "lbfgs", "l1": "fista"}


@dataclass(frozen=True)
class LinearClassifiers:
    weights: jax.Array  # [D, A] float32: logits = latents @ weights + biases
    biases: jax.Array  # [A] float32
    train_accuracy: jax.Array  # [A] float32, on the fitted samples
    objective: jax.Array  # [A] float32, final per-attribute objective (data term + penalty)

    @property
    def directions(self) -> jax.Array:
        """[A, D] unit normals (rows), + towards the positive class; all-zero weights stay zero."""
        w = self.weights.T
        norm = jnp.linalg.norm(w, axis=1, keepdims=True)
        return jnp.where(norm > 0, w / jnp.where(norm > 0, norm, 1.0), 0.0)


@jax.jit
def logits(weights: jax.Array, biases: jax.Array, latents: jax.Array) -> jax.Array:
    """latents [N, D] -> logits [N, A]."""
    return latents @ weights + biases


def predict_proba(weights: jax.Array, biases: jax.Array, latents) -> jax.Array:
    """latents [N, D] -> P(attribute) [N, A] float32."""
    return jax.nn.sigmoid(logits(weights, biases, jnp.asarray(latents, jnp.float32)))


def predict(weights: jax.Array, biases: jax.Array, latents) -> jax.Array:
    """latents [N, D] -> predicted labels [N, A] bool (logit > 0)."""
    return logits(weights, biases, jnp.asarray(latents, jnp.float32)) > 0


def _per_attribute_objective(params, x, y, lam, penalty: str) -> jax.Array:
    """[A]: mean BCE over the samples + the smooth part of the penalty (L1 is handled by the prox)."""
    data = optax.sigmoid_binary_cross_entropy(x @ params["w"] + params["b"], y).mean(axis=0)
    if penalty == "l2":
        return data + 0.5 * lam * jnp.sum(params["w"] ** 2, axis=0)
    return data


def _soft_threshold(w: jax.Array, t) -> jax.Array:
    """prox of t * ||w||_1."""
    return jnp.sign(w) * jnp.maximum(jnp.abs(w) - t, 0.0)


@functools.partial(jax.jit, static_argnames=("penalty", "optimizer", "steps", "batch_size"))
def _fit(x, y, lam, lr, key, *, penalty: str, optimizer: str, steps: int, batch_size: int | None):
    """x [N, D] centred, y [N, A] float -> params {'w': [D, A], 'b': [A]} for the centred data."""
    n, d = x.shape
    a = y.shape[1]
    params = {"w": jnp.zeros((d, a), jnp.float32), "b": jnp.zeros((a,), jnp.float32)}

    def total(p, xb, yb):
        return _per_attribute_objective(p, xb, yb, lam, penalty).sum()

    if optimizer == "fista":
        # Hessian of the mean BCE <= [x, 1]^T [x, 1] / (4 N); x is centred, so the bias block decouples.
        lipschitz = 0.25 * jnp.maximum(jnp.linalg.eigvalsh(x.T @ x / n)[-1], 1.0)
        if penalty == "l2":
            lipschitz = lipschitz + lam
        step = 1.0 / lipschitz
        grad_fn = jax.grad(total)

        def fista_step(carry, _):
            p, p_prev, t = carry
            t_next = 0.5 * (1.0 + jnp.sqrt(1.0 + 4.0 * t * t))
            z = jax.tree_util.tree_map(lambda u, v: u + ((t - 1.0) / t_next) * (u - v), p, p_prev)
            g = grad_fn(z, x, y)
            w = z["w"] - step * g["w"]
            new = {"w": _soft_threshold(w, step * lam) if penalty == "l1" else w, "b": z["b"] - step * g["b"]}
            return (new, p, t_next), None

        (params, _, _), _ = jax.lax.scan(fista_step, (params, params, jnp.float32(1.0)), None, length=steps)
        return params

    if optimizer == "lbfgs":
        opt = optax.lbfgs()

        def value_fn(p):
            return total(p, x, y)

        value_and_grad = optax.value_and_grad_from_state(value_fn)

        def lbfgs_step(carry, _):
            p, state = carry
            with jax.numpy_dtype_promotion("standard"):  # optax's line search mixes int32 counters and floats
                value, g = value_and_grad(p, state=state)
                upd, state = opt.update(g, state, p, value=value, grad=g, value_fn=value_fn)
            return (optax.apply_updates(p, upd), state), None

        (params, _), _ = jax.lax.scan(lbfgs_step, (params, opt.init(params)), None, length=steps)
        return params

    opt = optax.adam(optax.cosine_decay_schedule(lr, steps, 0.01))
    grad_fn = jax.grad(total)

    def adam_step(carry, i):
        p, state = carry
        if batch_size is None:
            g = grad_fn(p, x, y)
        else:
            idx = jax.random.randint(jax.random.fold_in(key, i), (batch_size,), 0, n)
            g = grad_fn(p, x[idx], y[idx])
        with jax.numpy_dtype_promotion("standard"):  # optax schedules mix int32 step counts and floats
            upd, state = opt.update(g, state, p)
        return (optax.apply_updates(p, upd), state), None

    (params, _), _ = jax.lax.scan(adam_step, (params, opt.init(params)), jnp.arange(steps, dtype=jnp.int32))
    return params


def fit_linear_classifiers(
    latents,
    labels,
    penalty: str = "l2",
    C: float = 1.0,
    optimizer: str | None = None,
    steps: int | None = None,
    lr: float = 0.05,
    batch_size: int | None = None,
    seed: int = 0,
) -> LinearClassifiers:
    """Fit A logistic classifiers on latents [N, D] and labels [N, A] bool in one jit-compiled loop.

    penalty: "l2" | "l1" | "none"; C: inverse regularisation strength as in sklearn.
    optimizer: "lbfgs" | "adam" | "fista" (default: lbfgs for l2/none, fista for l1; l1 needs fista).
    steps: iterations (default 100 for lbfgs, 1000 otherwise). lr: Adam's peak rate (cosine decay);
    lbfgs uses a line search and fista the step 1/L. batch_size: Adam minibatches (None = full batch).
    """
    x = np.asarray(latents, np.float32)
    y = np.asarray(labels)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"latents must be [N, D] with N > 0, got shape {x.shape}")
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(f"labels must be [N, A] with N = {x.shape[0]}, got shape {np.shape(labels)}")
    if y.dtype != bool:
        raise ValueError(f"labels must be bool, got {y.dtype}")
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}")
    optimizer = DEFAULT_OPTIMIZER[penalty] if optimizer is None else optimizer
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if penalty == "l1" and optimizer != "fista":
        raise ValueError("the L1 penalty needs optimizer='fista' (gradient steps never reach exact zeros)")
    if batch_size is not None and optimizer != "adam":
        raise ValueError("minibatches (batch_size) are only supported with optimizer='adam'")
    if C <= 0:
        raise ValueError(f"C must be > 0, got {C}")
    steps = DEFAULT_STEPS[optimizer] if steps is None else int(steps)

    mean = x.mean(axis=0)
    xc, yf = jnp.asarray(x - mean), jnp.asarray(y, jnp.float32)
    lam = jnp.float32(0.0 if penalty == "none" else 1.0 / (C * x.shape[0]))
    params = _fit(
        xc,
        yf,
        lam,
        jnp.float32(lr),
        jax.random.key(seed),
        penalty=penalty,
        optimizer=optimizer,
        steps=steps,
        batch_size=None if batch_size is None else int(batch_size),
    )
    objective = _per_attribute_objective(params, xc, yf, lam, penalty)
    if penalty == "l1":
        objective = objective + lam * jnp.abs(params["w"]).sum(axis=0)
    weights = params["w"]
    biases = params["b"] - jnp.asarray(mean) @ weights
    accuracy = ((xc @ weights + params["b"] > 0) == jnp.asarray(y)).mean(axis=0, dtype=jnp.float32)
    return LinearClassifiers(weights, biases, accuracy, objective)
