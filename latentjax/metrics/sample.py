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

from dataclasses import dataclass

import numpy as np

from latentjax.classifier import Classifier
from latentjax.dataset import SampleConfig, load_dataset, sample_arrays
from latentjax.generator import Generator

SPACES = ("z", "w")


@dataclass(frozen=True)
class LabelledLatents:
    z: np.ndarray  # [N, z_dim] float32
    w: np.ndarray  # [N, w_dim] float32: the mapping's output (after truncation); NVIDIA's dlatents[:, -1]
    probs: np.ndarray  # [N, A] float32 in [0, 1]: P(attribute) per row
    attributes: tuple[str, ...]
    source: str

    def latents(self, space: str) -> np.ndarray:
        if space not in SPACES:
            raise ValueError(f"space must be one of {SPACES}, got {space!r}")
        return self.z if space == "z" else self.w

    @property
    def labels(self) -> np.ndarray:
        """[N, A] bool: p > 0.5 (NVIDIA's argmax over the two classes)."""
        return self.probs > 0.5


def is_toyfaces(G: Generator) -> bool:
    from latentjax.toyfaces import Z_DIM

    return G.config.resolution == 64 and G.config.z_dim == Z_DIM


def sample_labelled(
    G: Generator,
    n: int,
    seed: int = 0,
    psi: float = 1.0,
    labels: str = "classifier",
    classifier: Classifier | None = None,
    batch: int = 256,
    progress: bool = False,
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
            raise ValueError("exact labels exist only for the toyfaces generators at truncation psi = 1")
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
