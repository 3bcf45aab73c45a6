"""What an edit does, measured with an attribute classifier (paper 000 Sec. 5, InterFaceGAN).

For latents ws [N, num_ws, w_dim], a direction and strengths lambda_1 < ... < lambda_S, the
classifier's probabilities of every attribute on G(edit(ws, d, lambda_s)) tell whether the
target attribute moves monotonically with lambda and how much the other attributes move along.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from latentjax.classifier import Classifier
from latentjax.edit import edit
from latentjax.generator import Generator
from latentjax.sharding import map_batches


@dataclass(frozen=True)
class EditEffect:
    strengths: np.ndarray  # [S] float32, increasing
    probs: np.ndarray  # [S, N, A] float32: classifier probabilities of every attribute at every strength
    attributes: tuple[str, ...]
    target: str

    @property
    def target_index(self) -> int:
        return self.attributes.index(self.target)

    @property
    def mean_curve(self) -> np.ndarray:
        """[S, A]: the mean probability of each attribute over the N latents, at each strength."""
        return self.probs.mean(axis=1)

    @property
    def monotonic_fraction(self) -> float:
        """Fraction of latents whose target probability never decreases as lambda grows (1e-3 slack)."""
        p = self.probs[:, :, self.target_index]
        return float(np.mean(np.all(np.diff(p, axis=0) >= -1e-3, axis=0)))

    @property
    def mean_abs_change(self) -> np.ndarray:
        """[A]: mean |p(lambda_max) - p(lambda_min)| per attribute over the latents."""
        return np.abs(self.probs[-1] - self.probs[0]).mean(axis=0)

    def summary(self) -> dict:
        """Target's mean |delta p|, the mean and max over the other attributes, monotonic fraction."""
        d = self.mean_abs_change
        others = np.delete(d, self.target_index)
        masked = d.copy()
        masked[self.target_index] = -np.inf
        return {
            "target": self.target,
            "target_abs_change": float(d[self.target_index]),
            "others_mean_abs_change": float(others.mean()) if others.size else 0.0,
            "others_max_abs_change": float(others.max()) if others.size else 0.0,
            "others_max_attribute": self.attributes[int(np.argmax(masked))],
            "monotonic_fraction": self.monotonic_fraction,
        }


def edit_effect(
    G: Generator,
    clf: Classifier,
    ws,
    direction,
    strengths: Sequence[float],
    target: str,
    layers=None,
    batch: int = 256,
) -> EditEffect:
    """Classifier probabilities along `edit(ws, direction, lambda, layers)` for each lambda.

    ws: [N, num_ws, w_dim]; direction: [w_dim] or [num_ws, w_dim] (a W direction; for Z edits
    map the shifted z first and pass the ws). Images use the generator's stored noise, so only
    the edit changes between strengths.
    """
    if target not in clf.attributes:
        raise ValueError(f"unknown target attribute {target!r}; the classifier knows {', '.join(clf.attributes)}")
    s = np.sort(np.asarray(strengths, np.float32))
    ws = np.asarray(ws, np.float32)
    probs = []
    for lam in s:
        e = np.asarray(edit(ws, np.asarray(direction, np.float32), float(lam), layers))
        imgs = map_batches(G.synthesis, e, min(batch, len(e)))  # padded chunks: one compile
        probs.append(clf.probabilities(imgs))
    return EditEffect(s, np.stack(probs).astype(np.float32), tuple(clf.attributes), target)
