"""A `latentjax sample` dataset -> one saved direction per attribute (`latentjax directions fit`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class FittedDirections:
    """What `fit_directions_to_folder` wrote: ATTRIBUTE.npz per attribute in `outdir`; `metrics`
    {attribute: fit metrics} of every attribute (all processes), in the dataset's order."""

    outdir: Path
    method: str
    space: str
    metrics: dict[str, dict]


def fit_directions_to_folder(
    data: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    attributes: Sequence[str] | str = "all",
    method: str = "logistic",
    space: str = "w",
    C: float = 0.1,
    fraction: float = 0.02,
    labels: str = "classifier",
) -> FittedDirections:
    """Fit a direction per attribute on a sampled dataset (z, w, classifier probabilities) with
    `directions.fit.fit_directions` and save each as outdir/ATTRIBUTE.npz (`save_direction`).

    labels: "classifier" (probabilities > 0.5) or "toyfaces" (the toy world's exact labels of each z).
    Several processes: each fits and writes every N-th attribute; all get every attribute's metrics.
    """
    from latentjax.dataset import load_dataset
    from latentjax.directions.fit import fit_directions
    from latentjax.directions.io import save_direction
    from latentjax.distributed import allgather_json
    from latentjax.io import to_jsonable
    from latentjax.latent_types import SAMPLED, check_space
    from latentjax.sharding import process_items

    check_space(space, SAMPLED)
    if labels not in ("classifier", "toyfaces"):
        raise ValueError(f"labels must be 'classifier' or 'toyfaces', got {labels!r}")
    d = load_dataset(data, fields=("z", "w", "probs"))  # probs: sampled with --classifier
    names = list(d["attributes"])
    want = names if attributes == "all" else [a.strip() for a in attributes]
    unknown = [a for a in want if a not in names]
    if unknown:
        raise ValueError(f"unknown attributes {unknown}; the dataset has {', '.join(names)}")
    mine = process_items(want)  # several processes: each fits (and writes) every N-th attribute
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    found = {}
    if mine:
        probs = d["probs"][:, [names.index(a) for a in mine]]
        y = probs > 0.5
        if labels == "toyfaces":  # the toy world's exact labels of each z instead of the classifier's
            from latentjax.toyfaces import labels_of

            exact = labels_of(d["z"])
            y = np.stack([np.asarray(exact[a]) for a in mine], axis=1)
        for direction in fit_directions(d[space], y, mine, method, space, C, scores=probs, fraction=fraction):
            save_direction(out / f"{direction.attribute}.npz", direction)
            found[direction.attribute] = to_jsonable(direction.metrics)
    gathered = {k: v for part in allgather_json(found, "gathering directions") for k, v in part.items()}
    return FittedDirections(out, method, space, {a: gathered[a] for a in names if a in gathered})
