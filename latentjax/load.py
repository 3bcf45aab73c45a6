"""`load_generator`: one entry point for official pickles, rosinality checkpoints, converted
checkpoints and shipped names."""

from __future__ import annotations

import os
from pathlib import Path

from latentjax.checkpoint import FORMAT, is_checkpoint, load_checkpoint
from latentjax.config import GeneratorConfig
from latentjax.convert import read_generator_pickle
from latentjax.errors import LoadError
from latentjax.generator import Generator


def _weights_dir() -> Path:
    """The shipped weights: inside an installed wheel (`latentjax/_weights`, see setup.py), else the
    checkout's top-level weights/ (source tree and editable installs)."""
    installed = Path(__file__).resolve().parent / "_weights"
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "weights"


WEIGHTS_DIR = _weights_dir()


def shipped_models() -> list[str]:
    """Names of the converted generators shipped in weights/ (loadable by name)."""
    if not WEIGHTS_DIR.is_dir():
        return []
    return sorted(
        p.name for p in WEIGHTS_DIR.iterdir() if is_checkpoint(p) and FORMAT in (p / "config.json").read_text()
    )


def read_model(path: str | os.PathLike, network: str | None = None) -> tuple[GeneratorConfig, dict]:
    """(config, numpy variables) of anything `load_generator` takes, without building a Generator."""
    p = Path(path)
    if is_checkpoint(p):
        return load_checkpoint(p)
    if p.is_file():
        return read_generator_pickle(p, network)
    if not p.exists() and (WEIGHTS_DIR / str(path)).is_dir():
        return load_checkpoint(WEIGHTS_DIR / str(path))
    if p.is_dir():
        raise LoadError(f"{p}: directory without config.json (not a converted generator)")
    known = ", ".join(shipped_models()) or "none shipped"
    raise LoadError(f"{path}: no such file, checkpoint directory or shipped model (known: {known})")


def load_generator(path: str | os.PathLike, network: str | None = None) -> Generator:
    """Load a generator from an NVIDIA pickle (TF StyleGAN/StyleGAN2 or a PyTorch-era snapshot),
    a rosinality/stylegan2-pytorch `.pt` checkpoint, a directory written by `latentjax convert`,
    or the name of a shipped model.

    `network` picks the tuple entry / dict key of a pickle (default Gs / G_ema / g_ema).
    """
    return Generator(*read_model(path, network))
