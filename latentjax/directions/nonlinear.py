"""Nonlinear attribute model and gradient traversal of the latent space (paper 004, TunaGAN Sec. 4.2, 5.1).

A small MLP f_n: latent [D] -> attribute logits [A] (two hidden layers, optional dropout as in
the paper) is fitted on (latents, labels). Editing then optimises the latent itself, the role of
the paper's trainable embedding f_e: gradient steps move z towards a target probability of one
attribute, optionally penalising changes of the other attributes' probabilities. The path bends
with the model instead of following one global direction, which is what the paper finds
necessary where attributes are not linearly separable. Paper 004 Sec. 5.4: traversing Z from
z = 0 is unstable (the mapping's pixel norm divides by |z|), so start points near 0 in Z are a
bad idea; W is preferred.

Shapes: latents [N, D] float32, labels [N, A] bool. `params` is one pytree holding the network
and the input standardisation, so `mlp_logits(params, latents)` needs nothing else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax


@dataclass(frozen=True)
class MLPConfig:
    hidden: tuple[int, ...] = (64, 64)  # paper 004: "a 2-layer NN"
    dropout: float = 0.1  # paper 004 regularises with dropout; without it the MLP memorises and traversal finds holes
    steps: int = 2000
    lr: float = 1e-2  # AdamW peak rate, cosine decay
    weight_decay: float = 1e-4
    batch_size: int | None = None  # None = full batch
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))


class AttributeMLP(nn.Module):
    """latents [N, D] (standardised) -> logits [N, A]. SiLU, so traversal gradients are smooth."""

    hidden: tuple[int, ...]
    num_attributes: int
    dropout: float = 0.0

    @nn.compact
    def __call__(self, x: jax.Array, deterministic: bool = True) -> jax.Array:
        for i, h in enumerate(self.hidden):
            x = nn.silu(nn.Dense(h, name=f"fc{i}")(x))
            if self.dropout > 0:
                x = nn.Dropout(self.dropout, deterministic=deterministic)(x)
        return nn.Dense(self.num_attributes, name="head")(x)


@dataclass(frozen=True)
class MLPFit:
    params: dict  # {"net": flax params, "mean": [D], "std": [D]}
    train_accuracy: jax.Array  # [A] float32


@dataclass(frozen=True)
class Traversal:
    latents: jax.Array  # [steps + 1, N, D] (or [steps + 1, D] for one start latent); row 0 = start
    probabilities: jax.Array  # [steps + 1, N, A] (or [steps + 1, A]) model probabilities along the path
    reached: jax.Array  # [N] (or []) bool: |p_attribute - target| <= tol at the end


def _module(params, dropout: float = 0.0) -> AttributeMLP:
    """Rebuild the module from the parameter shapes (fc0..fcK-1, head)."""
    net = params["net"]
    hidden = tuple(int(net[f"fc{i}"]["kernel"].shape[1]) for i in range(len(net) - 1))
    return AttributeMLP(hidden, int(net["head"]["bias"].shape[0]), dropout)


def mlp_logits(params, latents: jax.Array) -> jax.Array:
    """Pure: latents [N, D] (raw) -> logits [N, A]."""
    x = (latents - params["mean"]) / params["std"]
    return _module(params).apply({"params": params["net"]}, x)


def fit_mlp(latents, labels, config: MLPConfig = MLPConfig()) -> MLPFit:
    """Fit f_n on latents [N, D] and labels [N, A] bool (mean BCE over attributes, AdamW)."""
    x = np.asarray(latents, np.float32)
    y = np.asarray(labels)
    y = y[:, None] if y.ndim == 1 else y
    if x.ndim != 2 or y.ndim != 2 or y.shape[0] != x.shape[0] or y.dtype != bool:
        raise ValueError(f"need latents [N, D] float and labels [N, A] bool, got {x.shape} and {y.shape} {y.dtype}")
    std = x.std(axis=0)
    stats = {"mean": jnp.asarray(x.mean(axis=0)), "std": jnp.asarray(np.where(std > 0, std, 1.0), jnp.float32)}
    module = AttributeMLP(config.hidden, y.shape[1], config.dropout)
    key = jax.random.key(config.seed)
    net = module.init(jax.random.fold_in(key, 0), jnp.zeros((1, x.shape[1]), jnp.float32))["params"]
    net = _train(net, stats, jnp.asarray(x), jnp.asarray(y, jnp.float32), key, module=module, config=config)
    params = {"net": net, **stats}
    accuracy = ((mlp_logits(params, jnp.asarray(x)) > 0) == jnp.asarray(y)).mean(axis=0, dtype=jnp.float32)
    return MLPFit(params, accuracy)


@functools.partial(jax.jit, static_argnames=("module", "config"))
def _train(net, stats, x, y, key, *, module: AttributeMLP, config: MLPConfig):
    opt = optax.adamw(optax.cosine_decay_schedule(config.lr, config.steps, 0.01), weight_decay=config.weight_decay)
    xs = (x - stats["mean"]) / stats["std"]

    def step(carry, i):
        p, state = carry
        k = jax.random.fold_in(key, i + 1)
        xb, yb = xs, y
        if config.batch_size is not None:
            idx = jax.random.randint(k, (config.batch_size,), 0, x.shape[0])
            xb, yb = xs[idx], y[idx]

        def loss_fn(p):
            out = module.apply({"params": p}, xb, deterministic=False, rngs={"dropout": jax.random.fold_in(k, 1)})
            return optax.sigmoid_binary_cross_entropy(out, yb).mean()

        loss, g = jax.value_and_grad(loss_fn)(p)
        with jax.numpy_dtype_promotion("standard"):  # optax schedules mix int32 step counts and floats
            upd, state = opt.update(g, state, p)
        return (optax.apply_updates(p, upd), state), loss

    (net, _), _ = jax.lax.scan(step, (net, opt.init(net)), jnp.arange(config.steps, dtype=jnp.int32))
    return net


@functools.partial(jax.jit, static_argnames=("attribute_index", "steps"))
def _traverse(params, z0, target, lr, keep_others, tol, *, attribute_index: int, steps: int):
    num_attributes = params["net"]["head"]["bias"].shape[0]
    others = jnp.arange(num_attributes) != attribute_index
    p0 = jax.nn.sigmoid(mlp_logits(params, z0))  # [N, A]
    opt = optax.adam(lr)

    def loss_fn(z):
        logit = mlp_logits(params, z)
        # BCE against a soft target: its gradient (p - target) vanishes exactly at the target.
        loss = optax.sigmoid_binary_cross_entropy(logit[:, attribute_index], target)
        drift = jnp.where(others[None, :], jax.nn.sigmoid(logit) - p0, 0.0)
        return jnp.sum(loss + keep_others * jnp.sum(drift**2, axis=1))  # separable over samples

    def step(carry, _):
        z, state = carry
        g = jax.grad(loss_fn)(z)
        with jax.numpy_dtype_promotion("standard"):
            upd, state = opt.update(g, state, z)
        p = jax.nn.sigmoid(mlp_logits(params, z)[:, attribute_index])
        done = jnp.abs(p - target) <= tol  # [N]: stop moving once the target is met
        z = jnp.where(done[:, None], z, optax.apply_updates(z, upd))
        return (z, state), z

    (z, _), path = jax.lax.scan(step, (z0, opt.init(z0)), None, length=steps)
    path = jnp.concatenate([z0[None], path], axis=0)
    probs = jax.nn.sigmoid(jax.vmap(lambda zz: mlp_logits(params, zz))(path))
    return path, probs, jnp.abs(probs[-1, :, attribute_index] - target) <= tol


def traverse(
    params,
    latent,
    attribute_index: int,
    target: float,
    steps: int = 200,
    lr: float = 0.05,
    keep_others: float = 0.0,
    tol: float = 0.01,
) -> Traversal:
    """Gradient steps (Adam, rate lr) on latent [D] or [N, D] towards P(attribute_index) = target.

    keep_others > 0 adds keep_others * sum_{j != attribute} (p_j(z) - p_j(z_start))^2, holding the
    other attributes' model outputs near their start values. A latent stops once its probability
    is within tol of the target. Samples are independent (Adam is elementwise).
    """
    z = jnp.asarray(latent, jnp.float32)
    single = z.ndim == 1
    z = z[None] if single else z
    num_attributes = int(params["net"]["head"]["bias"].shape[0])
    if z.ndim != 2 or z.shape[1] != params["mean"].shape[0]:
        raise ValueError(f"latent must be [D] or [N, D] with D = {params['mean'].shape[0]}, got {np.shape(latent)}")
    if not 0 <= attribute_index < num_attributes:
        raise ValueError(f"attribute_index must be in [0, {num_attributes}), got {attribute_index}")
    if not 0.0 < target < 1.0:
        raise ValueError(f"target is a probability strictly between 0 and 1, got {target}")
    f32 = functools.partial(jnp.asarray, dtype=jnp.float32)
    path, probs, reached = _traverse(
        params, z, f32(target), f32(lr), f32(keep_others), f32(tol), attribute_index=int(attribute_index), steps=steps
    )
    if single:
        return Traversal(path[:, 0], probs[:, 0], reached[0])
    return Traversal(path, probs, reached)
