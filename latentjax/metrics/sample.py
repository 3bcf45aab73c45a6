"""Latents with attribute probabilities, the input of every attribute metric (separability, scores, DCI).

Three sources, one result (`LabelledLatents`):
- "classifier": sample z (row i's z depends only on (seed, i), as `latentjax sample`), map with
  truncation psi, synthesise, classify -> probabilities [N, A];
- "exact": the toy world's exact labels of each z (`toyfaces.labels_of`), as probabilities 0 / 1.
  Only meaningful for the toyfaces generators at psi = 1 (they render factors_of(z));
- a saved `latentjax sample` dataset directory (z, w, probs), or a user-provided probability array
  [N, A] aligned with the sampled rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from latentjax.classifier import Classifier
from latentjax.dataset import SampleConfig, load_dataset, sample_arrays
from latentjax.generator import Generator
from latentjax.latent_types import SAMPLED, Z, check_space


@dataclass(frozen=True)
class LabelledLatents:
    z: np.ndarray  # [N, z_dim] float32
    w: np.ndarray  # [N, w_dim] float32: the mapping's output (after truncation); NVIDIA's dlatents[:, -1]
    probs: np.ndarray  # [N, A] float32 in [0, 1]: P(attribute) per row
    attributes: tuple[str, ...]
    source: str

    def latents(self, space: str) -> np.ndarray:
        return self.z if check_space(space, SAMPLED) == Z else self.w

    @property
    def labels(self) -> np.ndarray:
        """[N, A] bool: p > 0.5 (NVIDIA's argmax over the two classes)."""
        return self.probs > 0.5


def is_toyfaces(G: Generator) -> bool:
    """The model says it renders the toy world: its config's name tag (toyfaces.train names the models it
    trains "toyfaces-*"; shipped and converted copies keep it). Never guessed from shapes: any 64^2
    generator with z_dim 64 would pass that, and its "exact labels" would be meaningless."""
    from latentjax.toyfaces import is_toy_model

    return is_toy_model(G.config)


def sample_labelled(
    G: Generator,
    n: int,
    seed: int = 0,
    psi: float = 1.0,
    labels: str = "classifier",
    classifier: Classifier | None = None,
    batch: int = 256,
    progress=False,  # latentjax.progress: a callback, True for a bar, False
) -> LabelledLatents:
    """n rows (z, w, probs); labels "classifier" (needs `classifier`), "exact" (toyfaces, psi = 1), or
    "none" (no probabilities, [N, 0]: to be replaced with `with_probs`)."""
    cfg = SampleConfig(n=n, batch=batch, seed=seed, psi=psi)
    if labels == "none":
        rows = sample_arrays(G, cfg, None, progress)
        return LabelledLatents(rows["z"], rows["w"], np.zeros((n, 0), np.float32), (), "none")
    if labels == "exact":
        from latentjax.toyfaces import ATTRIBUTES, labels_of

        if not is_toyfaces(G) or psi != 1.0:
            raise ValueError(
                "exact labels exist only for the toyfaces generators at truncation psi = 1 "
                f"(this model: name {G.config.name or '(none)'!r}, psi {psi:g})"
            )
        rows = sample_arrays(G, cfg, None, progress)
        exact = labels_of(rows["z"])
        probs = np.stack([np.asarray(exact[a]) for a in ATTRIBUTES], axis=1).astype(np.float32)
        return LabelledLatents(rows["z"], rows["w"], probs, tuple(ATTRIBUTES), "exact")
    if labels != "classifier":
        raise ValueError(f"labels must be 'classifier', 'exact' or 'none', got {labels!r}")
    if classifier is None:
        raise ValueError("labels='classifier' needs a classifier (latentjax.load_classifier('toyfaces'))")
    rows = sample_arrays(G, cfg, classifier, progress)
    return LabelledLatents(rows["z"], rows["w"], rows["probs"], tuple(classifier.attributes), "classifier")


def from_dataset(path) -> LabelledLatents:
    """A `latentjax sample --classifier ...` directory -> LabelledLatents."""
    d = load_dataset(path, fields=("z", "w", "probs"))
    return LabelledLatents(d["z"], d["w"], d["probs"], tuple(d["attributes"]), f"dataset {path}")


def with_probs(data: LabelledLatents, probs, attributes=None) -> LabelledLatents:
    """Replace the probabilities by a user-provided array [N, A] (values in [0, 1], or bool)."""
    p = np.asarray(probs)
    if p.ndim == 1:
        p = p[:, None]
    if p.ndim != 2 or p.shape[0] != len(data.z):
        raise ValueError(f"probs must be [{len(data.z)}, A] (one row per sampled latent), got {np.shape(probs)}")
    p = p.astype(np.float32)
    if not np.isfinite(p).all() or p.min() < 0 or p.max() > 1:
        raise ValueError("probs must be finite and in [0, 1]")
    names = tuple(attributes) if attributes is not None else tuple(f"attr{i}" for i in range(p.shape[1]))
    if len(names) != p.shape[1]:
        raise ValueError(f"{len(names)} attribute names for {p.shape[1]} columns")
    return LabelledLatents(data.z, data.w, p, names, "user probabilities")


def labelled_latents(
    G: Generator | None,
    *,
    data=None,
    n: int = 10000,
    seed: int = 0,
    psi: float = 1.0,
    labels: str = "classifier",
    classifier: Classifier | str = "toyfaces",
    probs=None,
    attributes=None,
    batch: int = 256,
    progress=False,  # latentjax.progress: a callback, True for a bar, False
) -> LabelledLatents:
    """The latents + probabilities an attribute metric runs on, from one of the sources: a `latentjax
    sample` directory `data`; n rows sampled from G labelled by `classifier` (a Classifier or a name for
    `load_classifier`) or "exact" (toy world); or the user's `probs` [N, A] (array or .npy file) of the
    sampled rows, named by `attributes`."""
    if data is not None:
        out = from_dataset(data)
    elif probs is not None or labels == "exact":  # no classifier needed
        out = sample_labelled(G, n, seed, psi, "exact" if probs is None else "none", None, batch)
    else:
        if isinstance(classifier, str):
            from latentjax.classifier import load_classifier

            classifier = load_classifier(classifier)
        out = sample_labelled(G, n, seed, psi, "classifier", classifier, batch, progress)
    if probs is not None:
        out = with_probs(out, np.load(probs) if isinstance(probs, (str, os.PathLike)) else probs, attributes)
    return out
