"""A trained flow on disk, pickle-free: `config.json` (FlowConfig, attribute names, metadata) +
`variables/` (orbax: params, the fixed classifiers C_i and optional W* edit normals).

Written through `checkpoint.write_tree_dir` (temporary sibling renamed into place), so an
interrupted save never leaves a half-written model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import jax
import numpy as np

from latentjax.errors import LoadError
from latentjax.flow.realnvp import FlowConfig, param_shapes
from latentjax.io import quiet_restore, read_config_json, write_tree_dir

FORMAT = "latentjax-flow/1"


@dataclass(frozen=True, eq=False)
class FlowModel:
    """T plus what it was trained against. clf_w [A, D], clf_b [A]: the fixed classifiers C_i
    (their unit normals d_i are clf_w rows normalised); normals [A, D] | None: InterFaceGAN
    normals fitted in W* (`edit.fit_wstar_normals`), row i for attributes[i]."""

    cfg: FlowConfig
    params: dict
    clf_w: np.ndarray
    clf_b: np.ndarray
    attributes: tuple[str, ...]
    normals: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def classifier_normals(self) -> np.ndarray:
        """[A, D] unit normals d_i of the classifiers' hyperplanes."""
        return self.clf_w / np.linalg.norm(self.clf_w, axis=1, keepdims=True)


def _check_arrays(cfg: FlowConfig, clf_w, clf_b, attributes, normals) -> tuple:
    clf_w = np.asarray(clf_w, np.float32)
    clf_b = np.asarray(clf_b, np.float32)
    if clf_w.ndim != 2 or clf_w.shape[1] != cfg.dim or clf_b.shape != (clf_w.shape[0],):
        raise ValueError(f"clf_w must be [A, {cfg.dim}] and clf_b [A], got {clf_w.shape} and {clf_b.shape}")
    attributes = tuple(attributes) if attributes is not None else tuple(f"attr{i}" for i in range(clf_w.shape[0]))
    if len(attributes) != clf_w.shape[0] or not all(isinstance(a, str) for a in attributes):
        raise ValueError(f"attributes must be {clf_w.shape[0]} names (one per classifier), got {attributes!r}")
    if normals is not None:
        normals = np.asarray(normals, np.float32)
        if normals.shape != clf_w.shape:
            raise ValueError(f"normals must be [A, D] = {clf_w.shape}, got {normals.shape}")
    for name, a in (("clf_w", clf_w), ("clf_b", clf_b), ("normals", normals)):
        if a is not None and not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or inf")
    return clf_w, clf_b, attributes, normals


def _check_params(cfg: FlowConfig, params: dict, where: str) -> dict:
    want = param_shapes(cfg)
    try:
        got = jax.tree.map(lambda s, a: np.asarray(a, np.float32), want, params)
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{where}: parameters do not match {cfg} ({e})") from None
    for (path, s), a in zip(jax.tree_util.tree_flatten_with_path(want)[0], jax.tree.leaves(got)):
        if a.shape != s.shape:
            raise ValueError(f"{where}: parameter {jax.tree_util.keystr(path)} has shape {a.shape}, want {s.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{where}: parameter {jax.tree_util.keystr(path)} contains NaN or inf")
    return got


def save_flow(
    outdir: str | os.PathLike,
    params: dict,
    cfg: FlowConfig,
    clf_w,
    clf_b,
    attributes=None,
    normals=None,
    meta: dict | None = None,
    overwrite: bool = False,
) -> Path:
    """Write T, its classifiers and attribute names (and optional W* normals) to `outdir` atomically."""
    clf_w, clf_b, attributes, normals = _check_arrays(cfg, clf_w, clf_b, attributes, normals)
    tree = {"params": _check_params(cfg, params, "save_flow"), "classifiers": {"weights": clf_w, "biases": clf_b}}
    if normals is not None:
        tree["normals"] = normals
    doc = {"format": FORMAT, "config": cfg.to_dict(), "attributes": list(attributes), "meta": meta or {}}
    try:
        json.dumps(doc, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"meta must hold only plain finite JSON values: {e}") from None
    return write_tree_dir(outdir, tree, doc, overwrite)


def load_flow(path: str | os.PathLike) -> FlowModel:
    """Read a directory written by `save_flow`; every shape and value checked. LoadError if unusable."""
    import orbax.checkpoint as ocp

    p = Path(path).absolute()
    doc = read_config_json(p, FORMAT)
    try:
        cfg = FlowConfig.from_dict(doc["config"])
        with quiet_restore(), ocp.StandardCheckpointer() as ckpt:
            tree = ckpt.restore(p / "variables")
        params = _check_params(cfg, tree["params"], str(p))
        clf_w, clf_b, attributes, normals = _check_arrays(
            cfg, tree["classifiers"]["weights"], tree["classifiers"]["biases"], doc["attributes"], tree.get("normals")
        )
    except LoadError:
        raise
    except Exception as e:
        raise LoadError(f"{p}: not a usable flow ({type(e).__name__}: {e})") from None
    return FlowModel(cfg, params, clf_w, clf_b, attributes, normals, dict(doc.get("meta") or {}))
