"""RealNVP bijection T: W+ -> W* (paper 002 Sec. 3 / Sec. 4 "Implementation Details"; Dinh et al. 2017).

T is a stack of affine coupling layers on a flat latent vector x [N, D] (a flattened W+ code,
D = num_ws * w_dim, or a single w, D = w_dim). Coupling k splits the coordinates into a
conditioning set A_k (copied) and a transformed set B_k:

    y_A = x_A,    y_B = x_B * exp(s_k(x_A)) + t_k(x_A),    log|det J_k| = sum(s_k(x_A))

and is inverted exactly by x_B = (y_B - t_k(y_A)) * exp(-s_k(y_A)). Per the paper (Sec. 4): no
batch normalisation; s and t are each 3 fully connected layers with LeakyReLU between them and
Tanh on the output of s (t's output is linear). Tanh bounds every coupling's per-coordinate
scale to [e^-1, e]; that keeps T (and T^-1) well conditioned.

Mask scheme (alternating, `FlowConfig.mask`), over the flattened vector with index i:
  "checkerboard" (default): coupling k transforms the coordinates with i % 2 != k % 2 and
      conditions on the others. For a row-major W+ code [num_ws, w_dim] with even w_dim this
      splits every style row in half, so every coupling sees (and changes) every layer.
  "halves": coupling k (even) conditions on i < D // 2 and transforms the rest; odd k swaps.
      For W+ this splits coarse/fine rows, so it mixes layers only through the alternation.
Two consecutive couplings together transform every coordinate (num_couplings >= 2).

The paper does not give the number of couplings, the hidden width or the LeakyReLU slope; the
defaults below are ours (0.01 is PyTorch's nn.LeakyReLU default, the paper's framework).

Parameters are a plain pytree: params["coupling_{k}"]["s" | "t"]["fc{0,1,2}"]["kernel" [in, out],
"bias" [out]]. The Flax module `RealNVP` only declares them; `forward` / `inverse` are pure.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

MASKS = ("checkerboard", "halves")


@dataclass(frozen=True)
class FlowConfig:
    """Static description of T. dim: D of the flat latents T acts on."""

    dim: int
    num_couplings: int = 8  # not given in the paper
    hidden: int = 512  # width of the two hidden layers of s and t; not given in the paper
    leaky_slope: float = 0.01  # LeakyReLU negative slope; not given in the paper (PyTorch default)
    mask: str = "checkerboard"

    def __post_init__(self):
        if not isinstance(self.dim, int) or self.dim < 2:
            raise ValueError(f"FlowConfig.dim must be an int >= 2 (a coupling needs two parts), got {self.dim!r}")
        if not isinstance(self.num_couplings, int) or self.num_couplings < 2:
            raise ValueError(f"FlowConfig.num_couplings must be an int >= 2, got {self.num_couplings!r}")
        if not isinstance(self.hidden, int) or self.hidden < 1:
            raise ValueError(f"FlowConfig.hidden must be a positive int, got {self.hidden!r}")
        if not 0.0 <= float(self.leaky_slope) < 1.0:
            raise ValueError(f"FlowConfig.leaky_slope must be in [0, 1), got {self.leaky_slope!r}")
        if self.mask not in MASKS:
            raise ValueError(f"FlowConfig.mask must be one of {MASKS}, got {self.mask!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> FlowConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown FlowConfig fields {sorted(unknown)}")
        return cls(**d)


def coupling_split(cfg: FlowConfig, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(conditioning indices A_k, transformed indices B_k) of coupling k: static, disjoint, covering [0, D)."""
    i = np.arange(cfg.dim)
    if cfg.mask == "checkerboard":
        cond = i % 2 == k % 2
    else:
        first = i < cfg.dim // 2
        cond = first if k % 2 == 0 else ~first
    return i[cond], i[~cond]


# ---- pure math ------------------------------------------------------------------------------------


def _mlp(p: dict, x: jax.Array, slope: float) -> jax.Array:
    """3 fully connected layers, LeakyReLU between them (paper Sec. 4); x: [N, in] -> [N, out]."""
    h = jax.nn.leaky_relu(x @ p["fc0"]["kernel"] + p["fc0"]["bias"], slope)
    h = jax.nn.leaky_relu(h @ p["fc1"]["kernel"] + p["fc1"]["bias"], slope)
    return h @ p["fc2"]["kernel"] + p["fc2"]["bias"]


def _scale_shift(p: dict, xa: jax.Array, slope: float) -> tuple[jax.Array, jax.Array]:
    """Conditioner: x_A [N, |A|] -> (log-scale s = tanh(MLP_s) [N, |B|], shift t = MLP_t [N, |B|])."""
    return jnp.tanh(_mlp(p["s"], xa, slope)), _mlp(p["t"], xa, slope)


def _check_input(x: jax.Array, cfg: FlowConfig, name: str) -> jax.Array:
    if x.ndim != 2 or x.shape[1] != cfg.dim:
        raise ValueError(
            f"{name} must be [N, {cfg.dim}] (flatten W+ codes with flatten_ws), got shape {tuple(x.shape)}"
        )
    return x.astype(jnp.float32)


def coupling_forward(p: dict, x: jax.Array, cfg: FlowConfig, k: int) -> tuple[jax.Array, jax.Array]:
    """One affine coupling: x [N, D] -> (y [N, D], log|det J| [N])."""
    a, b = coupling_split(cfg, k)
    s, t = _scale_shift(p, x[:, a], cfg.leaky_slope)
    yb = x[:, b] * jnp.exp(s) + t
    return x.at[:, b].set(yb), jnp.sum(s, axis=1)


def coupling_inverse(p: dict, y: jax.Array, cfg: FlowConfig, k: int) -> tuple[jax.Array, jax.Array]:
    """Exact inverse of `coupling_forward`: y [N, D] -> (x [N, D], log|det J^-1| [N] = -sum(s))."""
    a, b = coupling_split(cfg, k)
    s, t = _scale_shift(p, y[:, a], cfg.leaky_slope)  # y_A = x_A, so the conditioner is recomputable
    xb = (y[:, b] - t) * jnp.exp(-s)
    return y.at[:, b].set(xb), -jnp.sum(s, axis=1)


@functools.partial(jax.jit, static_argnames=("cfg",))
def forward(params: dict, x: jax.Array, *, cfg: FlowConfig) -> tuple[jax.Array, jax.Array]:
    """T: x [N, D] (W+) -> (y = T(x) [N, D] (W*), log|det dT/dx| [N])."""
    y = _check_input(x, cfg, "x")
    logdet = jnp.zeros(y.shape[0], jnp.float32)
    for k in range(cfg.num_couplings):
        y, ld = coupling_forward(params[f"coupling_{k}"], y, cfg, k)
        logdet = logdet + ld
    return y, logdet


@functools.partial(jax.jit, static_argnames=("cfg",))
def inverse(params: dict, y: jax.Array, *, cfg: FlowConfig) -> tuple[jax.Array, jax.Array]:
    """T^-1: y [N, D] (W*) -> (x = T^-1(y) [N, D] (W+), log|det dT^-1/dy| [N] = -logdet of forward at x)."""
    x = _check_input(y, cfg, "y")
    logdet = jnp.zeros(x.shape[0], jnp.float32)
    for k in reversed(range(cfg.num_couplings)):
        x, ld = coupling_inverse(params[f"coupling_{k}"], x, cfg, k)
        logdet = logdet + ld
    return x, logdet


# ---- parameters -----------------------------------------------------------------------------------


class RealNVP(nn.Module):
    """Declares the coupling MLPs' parameters and calls the pure `forward`."""

    cfg: FlowConfig

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """x: [N, D] -> (T(x) [N, D], log|det J| [N])."""
        cfg = self.cfg
        params = {}
        for k in range(cfg.num_couplings):
            a, b = coupling_split(cfg, k)
            dims = [len(a), cfg.hidden, cfg.hidden, len(b)]
            coupling = {}
            for net in ("s", "t"):
                layers = {}
                for i in range(3):
                    # Last layer of s and t starts at zero, so s = tanh(0) = 0 and t = 0: every coupling,
                    # hence T, is exactly the identity at init. The paper (Sec. 3, Eq. 1) pre-trains the
                    # classifiers C_i in W+ and keeps them fixed "so that T only focuses on improving the
                    # pre-trained classifier"; with T = id at step 0, W* = W+ and those C_i are valid
                    # there from the first step (L_a starts at the classifiers' own W+ loss). The paper does
                    # not describe T's init; this zero-last-layer choice is ours, motivated by that passage.
                    init = (
                        nn.initializers.zeros if i == 2 else nn.initializers.variance_scaling(1.0, "fan_in", "normal")
                    )
                    layers[f"fc{i}"] = {
                        "kernel": self.param(f"c{k}_{net}_fc{i}_kernel", init, (dims[i], dims[i + 1]), jnp.float32),
                        "bias": self.param(
                            f"c{k}_{net}_fc{i}_bias", nn.initializers.zeros, (dims[i + 1],), jnp.float32
                        ),
                    }
                coupling[net] = layers
            params[f"coupling_{k}"] = coupling
        return forward(params, x, cfg=cfg)


def _nest(flat: dict, cfg: FlowConfig) -> dict:
    """Flax's flat parameter names -> the nested pytree the pure functions take."""
    return {
        f"coupling_{k}": {
            net: {
                f"fc{i}": {"kernel": flat[f"c{k}_{net}_fc{i}_kernel"], "bias": flat[f"c{k}_{net}_fc{i}_bias"]}
                for i in range(3)
            }
            for net in ("s", "t")
        }
        for k in range(cfg.num_couplings)
    }


@functools.partial(jax.jit, static_argnums=0)
def init_flow(cfg: FlowConfig, key: jax.Array) -> dict:
    """Parameters of T (the identity map at init: zero last layers, see `RealNVP`)."""
    flat = RealNVP(cfg).init(key, jnp.zeros((1, cfg.dim), jnp.float32))["params"]
    return _nest(flat, cfg)


def param_shapes(cfg: FlowConfig) -> dict:
    """The parameter pytree's ShapeDtypeStructs (no compute)."""
    return jax.eval_shape(lambda: init_flow(cfg, jax.random.key(0)))


# ---- W+ layout helpers ----------------------------------------------------------------------------


def flatten_ws(ws: jax.Array) -> jax.Array:
    """ws [N, num_ws, w_dim] -> [N, num_ws * w_dim] (row-major: style row 0 first)."""
    if ws.ndim != 3:
        raise ValueError(f"ws must be [N, num_ws, w_dim], got shape {tuple(ws.shape)}")
    return ws.reshape(ws.shape[0], ws.shape[1] * ws.shape[2])


def unflatten_ws(x: jax.Array, num_ws: int) -> jax.Array:
    """x [N, num_ws * w_dim] -> ws [N, num_ws, w_dim]; inverse of `flatten_ws`."""
    if x.ndim != 2 or num_ws < 1 or x.shape[1] % num_ws:
        raise ValueError(f"x must be [N, num_ws * w_dim] with num_ws = {num_ws}, got shape {tuple(x.shape)}")
    return x.reshape(x.shape[0], num_ws, x.shape[1] // num_ws)
