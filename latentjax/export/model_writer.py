"""`convert_model`: load any model we read, write it where the output name says."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from latentjax.config import GeneratorConfig

TORCH_SUFFIXES = (".pt", ".pth")
PICKLE_SUFFIXES = (".pkl",)


@dataclass(frozen=True)
class ConvertResult:
    out: Path
    format: str  # "latentjax checkpoint" | "rosinality .pt" | "NVIDIA TF pickle"
    config: GeneratorConfig
    notes: tuple[str, ...]  # what the user must know about the written file


def output_format(out: str | os.PathLike) -> str:
    """'.pt'/'.pth' -> rosinality checkpoint, '.pkl' -> NVIDIA pickle, anything else a directory."""
    suffix = Path(out).suffix.lower()
    if suffix in TORCH_SUFFIXES:
        return "rosinality .pt"
    if suffix in PICKLE_SUFFIXES:
        return "NVIDIA TF pickle"
    return "latentjax checkpoint"


def _training_copy(src, cfg: GeneratorConfig) -> dict | None:
    """Variables of the training generator stored next to the EMA one in a model file (TF and
    snapshot pickles: 'G', rosinality: 'g'), when it has the same configuration."""
    import warnings

    from latentjax.convert import read_generator_pickle
    from latentjax.errors import LoadError

    if not Path(src).is_file():
        return None
    for name in ("G", "g"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # 'g' has no stored latent_avg; only its weights are used
                c, v = read_generator_pickle(src, name)
        except (LoadError, KeyError):
            continue
        return v if c == cfg else None
    return None


def convert_model(
    src: str | os.PathLike,
    out: str | os.PathLike,
    network: str | None = None,
    overwrite: bool = False,
    drop_conv_clamp: bool = False,
    d_seed: int = 0,
) -> ConvertResult:
    """Read `src` (official pickle, rosinality .pt, converted directory or shipped name) and
    write `out`: a rosinality checkpoint (.pt/.pth), an NVIDIA TF-era pickle (.pkl) or our
    checkpoint directory (any other name). Nothing is written when the target cannot express
    the model (ExportError) or `out` exists without `overwrite` (FileExistsError)."""
    from latentjax.load import read_model

    fmt = output_format(out)
    cfg, variables = read_model(src, network)
    if fmt == "rosinality .pt":
        from latentjax.export.rosinality import write_rosinality

        notes = write_rosinality(out, cfg, variables, overwrite, drop_conv_clamp)
    elif fmt == "NVIDIA TF pickle":
        from latentjax.export.nvidia_pickle import write_nvidia_pickle
        from latentjax.export.tf_discriminator import source_discriminator

        main = network in (None, "Gs", "G_ema", "g_ema")  # the source's training copies go along with it
        D, about_d = source_discriminator(src) if main else (None, f"{network} was asked for, so no D goes with it")
        G = _training_copy(src, cfg) if main else None
        notes = write_nvidia_pickle(out, cfg, variables, overwrite, D, d_seed, G) + [f"D: {about_d}"]
    else:
        from latentjax.checkpoint import save_generator

        out = save_generator(out, cfg, variables, overwrite=overwrite)
        notes = []
    return ConvertResult(Path(out), fmt, cfg, tuple(notes))
