"""Saving and loading a latent direction: one .npz holding the vector and a JSON metadata string.

Layout: `vector` (float array) and `metadata` (0-d unicode array with a JSON object: format tag,
space, layers, method, attribute, hyperparameters, metrics). Nothing is pickled and files are
read with allow_pickle=False, so a direction file can never execute code.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentjax.latent_types import W_PLUS, W, Z, check_space

FORMAT = "latentjax-direction/1"
SPACES = (Z, W, W_PLUS)  # latent_types' vocabulary: a direction lives in Z, W or W+


def _canonical_json(value, name: str) -> dict:
    """A JSON object's canonical Python form (tuples -> lists, keys str); ValueError if not plain finite JSON."""
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a dict, got {type(value).__name__}")
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must hold only JSON values (str, finite number, bool, None, list, dict): {e}") from e


@dataclass(frozen=True, eq=False)
class Direction:
    """A latent edit direction and how it was made.

    vector: [D] (z, w, or one w applied to every layer in `layers`) or [L, D] (a per-layer W+
    direction, L = len(layers) when layers are given). space: "z" | "w" | "w+". layers: the W+
    rows the edit applies to (None = all; not allowed for "z"). Stored read-only (a copy).
    """

    vector: np.ndarray
    space: str
    layers: tuple[int, ...] | None = None
    method: str = ""
    attribute: str = ""
    hyperparameters: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    def __post_init__(self):
        v = np.array(self.vector, copy=True)
        if v.dtype.kind != "f" or v.ndim not in (1, 2) or v.size == 0:
            raise ValueError(f"vector must be a non-empty float array [D] or [L, D], got {v.dtype} {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError("vector contains NaN or inf")
        v.setflags(write=False)
        object.__setattr__(self, "vector", v)
        check_space(self.space, SPACES)
        if self.layers is not None:
            if self.space == Z:
                raise ValueError("layers only apply to 'w' / 'w+' directions")
            if isinstance(self.layers, (str, bytes)) or not all(
                isinstance(i, (int, np.integer)) and not isinstance(i, bool) and i >= 0 for i in self.layers
            ):
                raise ValueError(f"layers must be a sequence of non-negative ints, got {self.layers!r}")
            object.__setattr__(self, "layers", tuple(int(i) for i in self.layers))
        if v.ndim == 2:
            if self.space != W_PLUS:
                raise ValueError(f"a per-layer [L, D] vector needs space 'w+', got {self.space!r}")
            if self.layers is not None and len(self.layers) != v.shape[0]:
                raise ValueError(f"vector has {v.shape[0]} layer rows but {len(self.layers)} layers are named")
        for name in ("method", "attribute"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a str, got {type(getattr(self, name)).__name__}")
        object.__setattr__(self, "hyperparameters", _canonical_json(self.hyperparameters, "hyperparameters"))
        object.__setattr__(self, "metrics", _canonical_json(self.metrics, "metrics"))

    def __eq__(self, other):
        if not isinstance(other, Direction):
            return NotImplemented
        return (
            self.vector.dtype == other.vector.dtype
            and np.array_equal(self.vector, other.vector)
            and self._metadata() == other._metadata()
        )

    __hash__ = None  # holds dicts and an array

    def _metadata(self) -> dict:
        return {
            "format": FORMAT,
            "space": self.space,
            "layers": None if self.layers is None else list(self.layers),
            "method": self.method,
            "attribute": self.attribute,
            "hyperparameters": self.hyperparameters,
            "metrics": self.metrics,
        }


def save_direction(path, d: Direction) -> Path:
    """Write `d` to `path` (.npz, written to a temporary file and renamed into place). Returns the path."""
    path = Path(path)
    meta = json.dumps(d._metadata(), allow_nan=False, sort_keys=True)
    from latentjax.io import atomic_write_file

    return atomic_write_file(path, lambda f: np.savez(f, vector=d.vector, metadata=np.array(meta)))


def load_direction(path) -> Direction:
    """Read a file written by `save_direction`; ValueError naming the problem if it is not one."""
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive")
        with data:
            missing = {"vector", "metadata"} - set(data.files)
            if missing:
                raise ValueError(f"missing arrays {sorted(missing)}")
            vector, raw = data["vector"], data["metadata"]
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        from latentjax.validate import short_reason

        raise ValueError(f"{path}: not a latentjax direction file ({short_reason(e)})") from None
    if raw.dtype.kind != "U" or raw.ndim != 0:
        raise ValueError(f"{path}: metadata must be a JSON string, got {raw.dtype} {raw.shape}")
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: metadata is not valid JSON ({e})") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path}: metadata format tag is not {FORMAT!r}")
    keys = {"space", "layers", "method", "attribute", "hyperparameters", "metrics"}
    if keys - set(meta):
        raise ValueError(f"{path}: metadata lacks {sorted(keys - set(meta))}")
    layers = meta["layers"]
    if layers is not None and not isinstance(layers, list):
        raise ValueError(f"{path}: layers must be a list or null, got {layers!r}")
    try:
        return Direction(
            vector,
            meta["space"],
            None if layers is None else tuple(layers),
            meta["method"],
            meta["attribute"],
            meta["hyperparameters"],
            meta["metrics"],
        )
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from e
