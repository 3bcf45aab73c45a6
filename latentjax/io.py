"""Generic file I/O: all-or-nothing writes of files and directories, and config.json readers."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import jax
import numpy as np

from latentjax.errors import LoadError


def atomic_write_file(path: str | os.PathLike, write) -> Path:
    """write(binary file) into a temporary sibling, fsync, rename over `path`: all or nothing."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_tree_dir(out: str | os.PathLike, tree, meta: dict, overwrite: bool = False, name: str = "variables") -> Path:
    """Write `tree` (orbax, under `name`/) and `meta` (config.json) to `out` atomically: into a
    temporary sibling that is renamed into place, so an interrupted write leaves nothing."""
    import orbax.checkpoint as ocp

    out = Path(out).absolute()
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"{out} exists and is not empty (pass overwrite=True / --overwrite)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)
    try:
        with ocp.StandardCheckpointer() as ckpt:
            ckpt.save(tmp / name, jax.tree_util.tree_map(lambda a: np.asarray(a, np.float32), tree))
        (tmp / "config.json").write_text(json.dumps(meta, indent=1))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_config_json(p: Path, fmt: str) -> dict:
    """p / config.json as a dict whose "format" is `fmt`; LoadError naming the problem otherwise."""
    try:
        doc = json.loads((p / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise LoadError(f"{p}: unreadable config.json ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise LoadError(f"{p}: config.json is not a {fmt} file")
    return doc
