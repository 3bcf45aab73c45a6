"""Attribute classifiers: a small Flax CNN with one sigmoid head per binary attribute.

The toy counterpart of the CelebA-HQ classifiers used by the separability metric (StyleGAN
paper, appendix) and of the face-API labels of papers 000/004. `Classifier(images)` returns
`{attribute: probability [N]}`; `Classifier.logits` / `features` are the pure pieces.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from latentjax.errors import LoadError
from latentjax.sharding import map_batches

FORMAT = "latentjax-classifier/1"


@dataclass(frozen=True)
class ClassifierConfig:
    attributes: tuple[str, ...]
    resolution: int = 64
    widths: tuple[int, ...] = (16, 32, 64, 128)  # one stride-2 stage each: 64 -> 4
    hidden: int = 128

    def __post_init__(self):
        object.__setattr__(self, "attributes", tuple(self.attributes))
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))


class AttributeCNN(nn.Module):
    """images [N, R, R, 3] in [-1, 1] -> (logits [N, A], per-stage feature maps)."""

    cfg: ClassifierConfig

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, list[jax.Array]]:
        feats = []
        x = nn.relu(nn.Conv(self.cfg.widths[0], (3, 3), name="stem")(x))
        for i, w in enumerate(self.cfg.widths):
            x = nn.relu(nn.Conv(w, (3, 3), strides=(2, 2), name=f"down{i}")(x))
            x = nn.relu(nn.Conv(w, (3, 3), name=f"conv{i}")(x))
            feats.append(x)
        x = nn.relu(nn.Dense(self.cfg.hidden, name="fc")(x.reshape(x.shape[0], -1)))
        return nn.Dense(len(self.cfg.attributes), name="head")(x), feats


@functools.partial(jax.jit, static_argnames=("cfg",))
def classifier_logits(params, images: jax.Array, *, cfg: ClassifierConfig) -> jax.Array:
    """Pure: images [N, R, R, 3] -> logits [N, A]."""
    return AttributeCNN(cfg).apply({"params": params}, images)[0]


def classifier_features(params, images: jax.Array, cfg: ClassifierConfig) -> list[jax.Array]:
    """Pure (traceable): the CNN's stage outputs, used as a feature-matching loss."""
    return AttributeCNN(cfg).apply({"params": params}, images)[1]


class Classifier:
    """`clf(images)` -> {attribute: prob [N]} (numpy float32); batched and jit-compiled."""

    def __init__(self, config: ClassifierConfig, params):
        self.config = config
        self.params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), params)

    @property
    def attributes(self) -> tuple[str, ...]:
        return self.config.attributes

    def logits(self, images, batch: int = 512) -> np.ndarray:
        x = np.asarray(images, np.float32)
        r = self.config.resolution
        if x.ndim != 4 or x.shape[1:] != (r, r, 3):
            raise ValueError(f"images must be [N, {r}, {r}, 3] in [-1, 1], got {x.shape}")
        if len(x) == 0:
            return np.zeros((0, len(self.attributes)), np.float32)
        # chunks padded to `batch` rows (sharding.map_batches): one compiled program for any N
        return map_batches(lambda chunk: classifier_logits(self.params, chunk, cfg=self.config), x, batch)

    def probabilities(self, images, batch: int = 512) -> np.ndarray:
        """[N, A] sigmoid probabilities in the order of `attributes`."""
        return (0.5 * (1.0 + np.tanh(0.5 * self.logits(images, batch)))).astype(np.float32)  # no exp overflow

    def __call__(self, images, batch: int = 512) -> dict[str, np.ndarray]:
        p = self.probabilities(images, batch)
        return {a: p[:, i] for i, a in enumerate(self.attributes)}


@functools.partial(jax.jit, static_argnums=0)  # one compile, not the forward pass op by op
def init_classifier(cfg: ClassifierConfig, key: jax.Array):
    x = jnp.zeros((1, cfg.resolution, cfg.resolution, 3), jnp.float32)
    return AttributeCNN(cfg).init(key, x)["params"]


def save_classifier(outdir: str | os.PathLike, clf: Classifier) -> Path:
    """orbax params + config.json, written atomically."""
    from latentjax.io import write_tree_dir

    meta = {"format": FORMAT, "config": asdict(clf.config)}
    return write_tree_dir(outdir, clf.params, meta, overwrite=True, name="params")


def load_classifier_dir(path: str | os.PathLike) -> Classifier:
    import orbax.checkpoint as ocp

    from latentjax.io import quiet_restore

    p = Path(path).absolute()
    try:
        meta = json.loads((p / "config.json").read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        cfg = ClassifierConfig(**meta["config"])
        with quiet_restore(), ocp.StandardCheckpointer() as ckpt:
            params = ckpt.restore(p / "params")
    except Exception as e:
        raise LoadError(f"{p}: cannot load classifier ({type(e).__name__}: {e})") from None
    want = jax.eval_shape(lambda k: init_classifier(cfg, k), jax.random.key(0))
    if jax.tree_util.tree_structure(want) != jax.tree_util.tree_structure(params) or any(
        a.shape != np.shape(b) for a, b in zip(jax.tree_util.tree_leaves(want), jax.tree_util.tree_leaves(params))
    ):
        raise LoadError(f"{p}: classifier parameters do not match its config")
    return Classifier(cfg, params)


def load_classifier(name_or_path: str | os.PathLike = "toyfaces") -> Classifier:
    """A shipped classifier by name ('toyfaces' -> weights/toyfaces-classifier) or a directory."""
    from latentjax.load import WEIGHTS_DIR

    p = Path(name_or_path)
    if (p / "config.json").is_file():
        return load_classifier_dir(p)
    shipped = WEIGHTS_DIR / f"{name_or_path}-classifier"
    if (shipped / "config.json").is_file():
        return load_classifier_dir(shipped)
    raise LoadError(f"{name_or_path}: no classifier directory or shipped classifier of that name")
