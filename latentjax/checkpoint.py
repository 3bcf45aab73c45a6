"""Converted generators on disk: `config.json` (GeneratorConfig) + `variables/` (orbax-checkpoint).

Writes go to a temporary sibling directory that is renamed into place at the end, so an
interrupted `convert` never leaves a half-written model behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
import numpy as np

from latentjax.config import GeneratorConfig
from latentjax.convert.variables import build_variables
from latentjax.errors import LoadError
from latentjax.io import read_config_json, write_tree_dir

FORMAT = "latentjax-generator/1"


def save_generator(
    outdir: str | os.PathLike, config: GeneratorConfig, variables: dict, overwrite: bool = False
) -> Path:
    """Write config + variables to `outdir` atomically. Returns the directory."""
    return write_tree_dir(outdir, variables, {"format": FORMAT, "config": config.to_dict()}, overwrite)


def is_checkpoint(path: str | os.PathLike) -> bool:
    p = Path(path)
    return p.is_dir() and (p / "config.json").is_file()


def load_checkpoint(path: str | os.PathLike) -> tuple[GeneratorConfig, dict]:
    """Read a directory written by `save_generator` -> (config, variables), shapes checked."""
    import orbax.checkpoint as ocp

    p = Path(path).absolute()
    meta = read_config_json(p, FORMAT)
    try:
        cfg = GeneratorConfig.from_dict(meta["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise LoadError(f"{p}: invalid generator config ({e})") from None
    if not (p / "variables").is_dir():
        raise LoadError(f"{p}: missing variables/ directory")
    try:
        with ocp.StandardCheckpointer() as ckpt:
            tree = ckpt.restore(p / "variables")
    except Exception as e:
        raise LoadError(f"{p}: cannot restore variables ({type(e).__name__}: {e})") from None
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    arrays = {tuple(k.key for k in path): np.asarray(leaf) for path, leaf in flat}
    return cfg, build_variables(cfg, arrays, str(p))
