"""Latents with attribute probabilities -> a trained W* flow in a folder (`latentjax flow train`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class TrainedFlow:
    """What `train_wstar_flow` wrote: the model in `outdir`/flow (load_flow), the resumable checkpoints in
    `outdir`/checkpoint; `n` latents of `space`; `last` {loss term: mean of the last 100 steps}."""

    flow_dir: Path
    space: str
    n: int
    last: dict[str, float]


def train_wstar_flow(
    labelled,
    outdir: str | os.PathLike,
    *,
    space: str = "w",
    num_ws: int | None = None,
    flow=None,
    train=None,
    meta: dict | None = None,
    progress=False,  # latentjax.progress: a callback, True for a bar, False
) -> TrainedFlow:
    """Paper 002's recipe on `labelled` latents (`metrics.sample.labelled_latents`): fixed classifiers,
    T: W(+) -> W* (`flow.fit.fit_wstar`), W* normals; saved to outdir/flow, checkpoints (a killed run
    resumes) in outdir/checkpoint.

    space "w": [N, w_dim]; "w+": sampled codes, w on each of `num_ws` rows, flattened row-major as
    `flow.flatten_ws` does. flow / train: FlowConfig overrides (dict: num_couplings, hidden) and a
    FlowTrainConfig. meta: extra fields saved with the model (e.g. the generator's name).
    """
    from latentjax.flow import FlowConfig, fit_wstar, save_flow
    from latentjax.latent_types import MAPPED, W_PLUS, check_space

    check_space(space, MAPPED)
    x = labelled.w
    if space == W_PLUS:
        if not num_ws:
            raise ValueError("space 'w+' needs num_ws (the generator's W+ rows)")
        x = np.tile(x, (1, num_ws))
    cfg = FlowConfig(dim=x.shape[1], **(flow or {}))
    out = Path(outdir)
    meta = {"space": space, **(meta or {}), "n": len(x), "labels": labelled.source}
    model, hist = fit_wstar(
        x, labelled.probs, labelled.attributes, cfg, train, out / "checkpoint", progress=progress, meta=meta
    )
    save_flow(out / "flow", model.params, cfg, model.clf_w, model.clf_b, model.attributes, model.normals, meta, True)
    last = {k: float(np.mean(v[-100:])) for k, v in hist.items()}
    return TrainedFlow(out / "flow", space, len(x), last)
