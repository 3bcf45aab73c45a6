"""Training T with the paper's objective (paper 002 Sec. 3-4): Adam, jit-compiled step, resumable.

Determinism: everything a step uses is a function of (seed, step) alone, never of how the run
was split into sessions:
  - init: `init_flow(cfg, fold_in(key(seed), 0))` (the identity map);
  - batch of step k: positions k*B .. k*B+B-1 of an endless stream of epochs, epoch e being the
    permutation `default_rng([seed, e]).permutation(N)` (`batch_indices`);
  - loss randomness of step k (edited attribute j, strengths alpha): `fold_in(fold_in(key(seed), 1), k)`.
A checkpoint (params, Adam state, step, history) is written every `checkpoint_every` steps and at
the end; `train_flow` with the same `ckpt_dir` resumes from it and ends bit-identical to an
uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from latentjax.checkpoint import is_checkpoint
from latentjax.errors import LoadError
from latentjax.flow.io import FlowModel, load_flow, save_flow  # noqa: F401  (re-exported: the train API)
from latentjax.flow.losses import FlowLossConfig, check_classifiers, flow_loss
from latentjax.flow.realnvp import FlowConfig, init_flow
from latentjax.io import write_tree_dir
from latentjax.progress import Progress, Reporter

STATE_FORMAT = "latentjax-flow-train/1"
PARTS = ("total", "attribute", "margin", "preservation", "accuracy")


@dataclass(frozen=True)
class FlowTrainConfig:
    """Paper Sec. 4: Adam (beta1 0.9, beta2 0.999), lr 1e-4, lambda_ap 0.1, batch size 8.
    lambda_lm, ap_strength and steps are not given in the paper (see losses.py)."""

    steps: int = 10000
    batch_size: int = 8
    learning_rate: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    adam_eps: float = 1e-8  # PyTorch's Adam default
    lambda_lm: float = FlowLossConfig.lambda_lm
    lambda_ap: float = FlowLossConfig.lambda_ap
    ap_strength: float = FlowLossConfig.ap_strength
    lm_use_bias: bool = FlowLossConfig.lm_use_bias
    seed: int = 0
    checkpoint_every: int = 1000

    def __post_init__(self):
        for name in ("steps", "batch_size", "checkpoint_every", "seed"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < (0 if name in ("steps", "seed") else 1):
                raise ValueError(f"FlowTrainConfig.{name} must be a non-negative int (>= 1 for sizes), got {v!r}")
        if not self.learning_rate > 0 or not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ValueError("FlowTrainConfig: learning_rate must be > 0 and betas in [0, 1)")
        _ = self.loss_cfg  # validates the loss weights

    @property
    def loss_cfg(self) -> FlowLossConfig:
        return FlowLossConfig(self.lambda_lm, self.lambda_ap, self.ap_strength, self.lm_use_bias)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# Fields that may change between a run and its resumption without changing the trajectory.
_RESUMABLE_CHANGES = ("steps", "checkpoint_every")


def batch_indices(seed: int, step: int, n: int, batch_size: int) -> np.ndarray:
    """Sample indices [batch_size] of step `step`: a pure function of (seed, step) (see module doc)."""
    pos = step * batch_size + np.arange(batch_size)
    epochs, offs = np.divmod(pos, n)
    out = np.empty(batch_size, np.int32)
    for e in np.unique(epochs):
        perm = np.random.default_rng([seed, int(e)]).permutation(n)
        out[epochs == e] = perm[offs[epochs == e]]
    return out


def step_key(seed: int, step: int) -> jax.Array:
    return jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), 1), step)


def optimizer(tcfg: FlowTrainConfig) -> optax.GradientTransformation:
    """Adam's moment scaling; the step multiplies by -learning_rate (= optax.adam, lr a traced argument)."""
    return optax.scale_by_adam(b1=tcfg.beta1, b2=tcfg.beta2, eps=tcfg.adam_eps)


@functools.lru_cache(maxsize=8)
def _compiled_step(cfg: FlowConfig, tcfg: FlowTrainConfig):
    opt = optimizer(tcfg)
    loss_cfg = tcfg.loss_cfg

    def step(params, opt_state, ws, labels, clf_w, clf_b, idx, key, lr):
        """One Adam step on the batch ws[idx] ([N, D] data stays on device; idx [B]; lr f32 scalar)."""
        grad_fn = jax.value_and_grad(flow_loss, has_aux=True)
        (_, parts), grads = grad_fn(params, ws[idx], labels[idx], clf_w, clf_b, key, cfg=cfg, loss_cfg=loss_cfg)
        with jax.numpy_dtype_promotion("standard"):  # optax's bias correction mixes int32 counts and floats
            updates, opt_state = opt.update(grads, opt_state, params)
            params = optax.apply_updates(params, jax.tree.map(lambda u: -lr * u, updates))
        return params, opt_state, parts

    return jax.jit(step)


def train_step(params, opt_state, ws, labels, clf_w, clf_b, idx, key, *, cfg: FlowConfig, tcfg: FlowTrainConfig):
    """Pure jitted step -> (params, opt_state, parts). ws [N, D] f32, labels [N, A] bool, idx [B] int32."""
    # steps / checkpoint_every / seed do not enter the step and lr is traced: one compiled step serves them all
    static = dataclasses.replace(tcfg, steps=0, checkpoint_every=1, seed=0, learning_rate=1.0)
    lr = jnp.asarray(tcfg.learning_rate, jnp.float32)
    return _compiled_step(cfg, static)(params, opt_state, ws, labels, clf_w, clf_b, idx, key, lr)


# ---- checkpoints ----------------------------------------------------------------------------------


def _fingerprint(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def _save_state(ckpt_dir, step: int, params, opt_state, history: dict, meta: dict) -> None:
    tree = {
        "params": params,
        "opt_state": {str(i): leaf for i, leaf in enumerate(jax.tree.leaves(opt_state))},
        "history": {k: np.asarray(v, np.float32) for k, v in history.items()},
    }
    write_tree_dir(ckpt_dir, tree, {**meta, "format": STATE_FORMAT, "step": step}, overwrite=True, name="state")


def _load_state(ckpt_dir, meta: dict, params_template, opt_template):
    """(step, params, opt_state, history) from `ckpt_dir`, after checking it belongs to this run."""
    import orbax.checkpoint as ocp

    p = Path(ckpt_dir).absolute()
    try:
        saved = json.loads((p / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise LoadError(f"{p}: unreadable training checkpoint ({e})") from None
    if saved.get("format") != STATE_FORMAT:
        raise LoadError(f"{p}: not a {STATE_FORMAT} checkpoint")
    for k in ("flow_config", "data"):
        if saved.get(k) != meta[k]:
            raise ValueError(f"{p}: checkpoint was made with a different {k} ({saved.get(k)} vs {meta[k]})")
    ours = {k: v for k, v in meta["train_config"].items() if k not in _RESUMABLE_CHANGES}
    theirs = {k: v for k, v in saved.get("train_config", {}).items() if k not in _RESUMABLE_CHANGES}
    if ours != theirs:
        raise ValueError(f"{p}: checkpoint was made with a different training config ({theirs} vs {ours})")
    with ocp.StandardCheckpointer() as ckpt:
        tree = ckpt.restore(p / "state")
    # write_tree_dir stores float32; cast back to the template dtypes (Adam's int32 count is exact in f32).
    params = jax.tree.map(lambda t, a: jnp.asarray(a, t.dtype), params_template, tree["params"])
    leaves, treedef = jax.tree.flatten(opt_template)
    opt_state = jax.tree.unflatten(
        treedef, [jnp.asarray(tree["opt_state"][str(i)], t.dtype) for i, t in enumerate(leaves)]
    )
    history = {k: [np.asarray(tree["history"][k], np.float32)] for k in PARTS}
    return int(saved["step"]), params, opt_state, history


# ---- driver ---------------------------------------------------------------------------------------


def train_flow(
    ws,
    labels,
    clf_w,
    clf_b,
    cfg: FlowConfig,
    tcfg: FlowTrainConfig = FlowTrainConfig(),
    ckpt_dir=None,
    progress: Progress = False,
) -> tuple[dict, dict[str, np.ndarray]]:
    """Train T on latents ws [N, D] (or [N, num_ws, w_dim]) with labels [N, A] bool against the
    fixed classifiers clf_w [A, D], clf_b [A] (pre-trained in W+, paper Sec. 3).

    Returns (params, history); history[part] [steps] float32 for part in PARTS (the loss parts
    of each step, before its update). With ckpt_dir, resumes from the checkpoint there.
    """
    x = np.asarray(ws, np.float32)  # host copy; numpy checks avoid a second device copy of a large set
    if x.ndim == 3:
        x = x.reshape(x.shape[0], x.shape[1] * x.shape[2])
    if x.ndim != 2 or x.shape[1] != cfg.dim or x.shape[0] == 0:
        raise ValueError(f"ws must be [N, {cfg.dim}] or [N, num_ws, w_dim] with num_ws * w_dim = {cfg.dim}, N > 0")
    if not np.all(np.isfinite(x)):
        raise ValueError("ws contains NaN or inf")
    y = np.asarray(labels)
    if y.dtype != np.bool_:
        if not np.all(np.isin(y, (0, 1))):
            raise ValueError("labels must be bool (or 0/1)")
        y = y.astype(bool)
    if y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(f"labels must be [N, A] with N = {x.shape[0]}, got shape {y.shape}")
    cw = jnp.asarray(clf_w, jnp.float32)
    cb = jnp.asarray(clf_b, jnp.float32)
    check_classifiers(cw, cb, cfg.dim)
    if cw.shape[0] != y.shape[1]:
        raise ValueError(f"labels have {y.shape[1]} attributes but there are {cw.shape[0]} classifiers")

    params = init_flow(cfg, jax.random.fold_in(jax.random.key(tcfg.seed), 0))
    opt_state = optimizer(tcfg).init(params)
    history: dict[str, list] = {k: [] for k in PARTS}
    start = 0
    meta = {
        "flow_config": cfg.to_dict(),
        "train_config": tcfg.to_dict(),
        # resuming on other data would silently mix two runs: the checkpoint records what it was trained on
        "data": {
            "shape": [*x.shape, y.shape[1]],
            "sha256": _fingerprint(x, y, np.asarray(cw), np.asarray(cb)) if ckpt_dir is not None else None,
        },
    }
    resume = ckpt_dir is not None and is_checkpoint(ckpt_dir)
    if ckpt_dir is not None and not resume and Path(ckpt_dir).is_dir() and any(Path(ckpt_dir).iterdir()):
        raise FileExistsError(f"{ckpt_dir} is not empty and holds no training checkpoint: refusing to overwrite it")
    if resume:
        start, params, opt_state, history = _load_state(ckpt_dir, meta, params, opt_state)
        if start > tcfg.steps:
            raise ValueError(f"{ckpt_dir}: checkpoint is at step {start}, past steps = {tcfg.steps}")

    xd, yd = jnp.asarray(x), jnp.asarray(y)
    steps = range(start, tcfg.steps)
    rep = None  # the report starts after the first step: its compile would make the first ETA hours long
    if progress is True:
        print("flow: compiling the training step…", file=sys.stderr, flush=True)

    def flush():  # one host array per part (syncs with the device)
        for k in PARTS:
            if history[k]:
                history[k] = [np.concatenate([np.atleast_1d(np.asarray(v, np.float32)) for v in history[k]])]

    for k in steps:
        idx = jnp.asarray(batch_indices(tcfg.seed, k, x.shape[0], tcfg.batch_size))
        params, opt_state, parts = train_step(
            params, opt_state, xd, yd, cw, cb, idx, step_key(tcfg.seed, k), cfg=cfg, tcfg=tcfg
        )
        for name in PARTS:
            history[name].append(parts[name])
        if progress:
            rep = rep or Reporter(progress, tcfg.steps, "flow", "step", initial=k)
            rep.update(1, loss=float(parts["total"]), acc=float(parts["accuracy"]))
        done = k + 1
        if ckpt_dir is not None and (done % tcfg.checkpoint_every == 0 or done == tcfg.steps):
            flush()
            _save_state(ckpt_dir, done, params, opt_state, {p: v[0] for p, v in history.items()}, meta)

    if rep is not None:
        rep.close()
    flush()
    return params, {k: (v[0] if v else np.zeros(0, np.float32)) for k, v in history.items()}
