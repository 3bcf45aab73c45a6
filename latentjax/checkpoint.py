"""Converted generators on disk: `config.json` (GeneratorConfig) + `variables/` (orbax-checkpoint).

Writes go to a temporary sibling directory that is renamed into place at the end, so an
interrupted `convert` never leaves a half-written model behind.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import jax
import numpy as np

from latentjax import validate
from latentjax.config import GeneratorConfig
from latentjax.convert.variables import build_variables, expected_shapes
from latentjax.errors import LoadError
from latentjax.io import quiet_restore, read_config_json, write_tree_dir

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
    """Read a directory written by `save_generator` -> (config, variables).

    Everything is checked before a generator is built, each failure one LoadError naming the
    directory: config.json's keys and JSON types, then every array's presence and shape against
    the config (a hand-edited resolution that disagrees with the weights is refused, not built),
    and a truncated or corrupt variables/ without orbax's tracebacks on stderr.
    """
    p = Path(path).absolute()
    meta = read_config_json(p, FORMAT)
    try:
        raw = validate.dataclass_fields(meta.get("config"), GeneratorConfig, "config.json")
        cfg = GeneratorConfig.from_dict(raw)
    except (KeyError, TypeError, ValueError) as e:
        raise LoadError(f"{p}: invalid generator config ({e})") from None
    if not (p / "variables").is_dir():
        raise LoadError(f"{p}: missing variables/ directory")
    arrays = restore_arrays(p / "variables", p)
    check_arrays_match(cfg, arrays, p)
    return cfg, build_variables(cfg, arrays, str(p))


def restore_arrays(d: Path, source: Path) -> dict[tuple[str, ...], np.ndarray]:
    """Flat {path tuple: numpy array} of an orbax tree; LoadError (one line) if it cannot be read."""
    import orbax.checkpoint as ocp

    try:
        with quiet_restore(), ocp.StandardCheckpointer() as ckpt:
            tree = ckpt.restore(d)
    except Exception as e:
        m = re.search(r'Byte range \[(\d+), (\d+)\) of local file "([^"]+)"', str(e))
        if m and Path(m[3]).is_file():  # name the short file, not tensorstore's paragraph
            size = Path(m[3]).stat().st_size
            raise LoadError(
                f"{source}: variables/ truncated or corrupt: {m[3]} has {size} bytes, bytes [{m[1]}, {m[2]}) expected"
            ) from None
        raise LoadError(f"{source}: cannot restore variables/ (truncated or corrupt? {_first_line(e)})") from None
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {tuple(str(getattr(k, "key", k)) for k in path): np.asarray(leaf) for path, leaf in flat}


def check_arrays_match(cfg: GeneratorConfig, arrays: dict, source) -> None:
    """Every array a generator with `cfg` has, with its shape, and no others: one LoadError listing
    what is missing, unexpected or of another shape, and which config fields the arrays imply."""
    want = expected_shapes(cfg)
    missing = [k for k in want if k not in arrays]
    extra = [k for k in arrays if k not in want]
    other = [k for k in want if k in arrays and tuple(np.shape(arrays[k])) != want[k]]
    if not (missing or extra or other):
        return
    parts = []
    if missing:
        parts.append(f"{len(missing)} array(s) missing, e.g. {'/'.join(missing[0])} {list(want[missing[0]])}")
    if extra:
        parts.append(f"{len(extra)} unexpected, e.g. {'/'.join(extra[0])} {list(np.shape(arrays[extra[0]]))}")
    if other:
        k = other[0]
        parts.append(
            f"{len(other)} of another shape, e.g. {'/'.join(k)} {list(np.shape(arrays[k]))} (config: {list(want[k])})"
        )
    implied = _implied_fields(arrays)
    diff = [f"{f} {getattr(cfg, f)} (arrays: {v})" for f, v in implied.items() if getattr(cfg, f) != v]
    why = f"; config.json says {', '.join(diff)}" if diff else ""
    raise LoadError(f"{source}: config.json does not match variables/{why}: {'; '.join(parts)}")


def _implied_fields(arrays: dict) -> dict:
    """The config fields the arrays themselves show (best effort, for the error message only)."""
    out = {}
    blocks = [k[2] for k in arrays if len(k) > 3 and k[1] == "synthesis_network" and k[2][:1] == "b"]
    sizes = [int(b[1:].split("_")[0]) for b in blocks if b[1:].split("_")[0].isdigit()]
    if sizes:
        out["resolution"] = max(sizes)
    w_avg = arrays.get(("buffers", "mapping_network", "w_avg"))
    if w_avg is not None and np.ndim(w_avg) == 1:
        out["w_dim"] = int(np.shape(w_avg)[0])
    fc = [k for k in arrays if len(k) == 3 and k[1] == "mapping_network" and k[2].endswith("_weight")]
    if fc:
        out["mapping_layers"] = len(fc)
    fc0 = arrays.get(("params", "mapping_network", "fc0_weight"))
    if fc0 is not None and np.ndim(fc0) == 2:
        out["z_dim"] = int(np.shape(fc0)[0])
    return out


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:200]}" if text else type(e).__name__
