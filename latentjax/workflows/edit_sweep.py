"""Latents moved along a direction at several strengths -> a strip and the edited latents (`latentjax edit`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentjax.generator import Generator, check_noise_mode


@dataclass(frozen=True)
class EditSweep:
    """What `edit_sweep` wrote: `strip` (edit.png: one row per latent, one column per strength) and
    `latents` (edited.npz: ws [S * N, num_ws, w_dim], strengths [S * N]); `edits` [S, N, num_ws, w_dim];
    `what` names the edit (attribute, space, method / flow)."""

    strip: Path
    latents: Path
    edits: np.ndarray
    what: str


def edit_sweep(
    G: Generator,
    outdir: str | os.PathLike,
    strengths: Sequence[float],
    *,
    direction=None,
    flow=None,
    attribute: str | None = None,
    z=None,
    ws=None,
    psi: float = 1.0,
    layers: str | Sequence[int] | None = None,
    noise_mode: str = "const",
) -> EditSweep:
    """Edit latents (z [N, z_dim] mapped with psi, or W+ codes ws [N, num_ws, w_dim]) at every strength
    and write edit.png and edited.npz to `outdir` (made once every input is checked).

    direction: a `Direction` or its .npz file: w' = w + lambda d on `layers` (a spec for
    `latent.resolve_layers`; default the direction's own), or z + lambda d for a z direction.
    flow + attribute: the W* edit of paper 002 instead (a flow folder from `latentjax flow train`
    or a loaded flow): w -> T(w) + lambda n_attribute -> T^-1.
    """
    from latentjax import validate
    from latentjax.figures import edit_strip, edited_ws
    from latentjax.latent import resolve_layers
    from latentjax.media import save_png

    check_noise_mode(noise_mode)
    strengths = [float(s) for s in strengths]
    if (z is None) == (ws is None):
        raise ValueError("give z or ws (one of them)")
    if flow is not None or attribute is not None:
        from latentjax.flow import load_flow
        from latentjax.flow.edit import edit_in_wstar

        if flow is None or not attribute:
            raise ValueError("--space w* needs --flow DIR (latentjax flow train) and --attribute NAME")
        name = flow
        flow = load_flow(flow) if isinstance(flow, (str, os.PathLike)) else flow
        ws = G.mapping(z, psi) if ws is None else ws
        edits = np.stack([edit_in_wstar(flow, ws, attribute, lam) for lam in strengths])
        what = f"{attribute} (w*, paper 002 flow {name})"
    else:
        if direction is None:
            raise ValueError("--direction is required (or --space w* with --flow and --attribute)")
        name = str(direction) if isinstance(direction, (str, os.PathLike)) else "direction"
        if isinstance(direction, (str, os.PathLike)):
            from latentjax.directions import load_direction

            direction = load_direction(direction)
        validate.direction_for(direction, G.config.z_dim, G.config.w_dim, G.config.num_ws, name)
        rows = None if layers is None else resolve_layers(layers, G.config.num_ws)
        edits = edited_ws(G, direction, strengths, z=z, ws=ws, psi=psi, layers=rows)
        what = f"{direction.attribute or name} ({direction.space}, {direction.method})"
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    save_png(out / "edit.png", edit_strip(G, edits, noise_mode))
    s, n = edits.shape[:2]
    np.savez(out / "edited.npz", ws=edits.reshape(s * n, *edits.shape[2:]), strengths=np.repeat(strengths, n))
    return EditSweep(out / "edit.png", out / "edited.npz", edits, what)
