"""Storage: a dataset directory's format (manifest.json + shard-NNNNN.npz), its header (what a resumed
run must agree on), checks of shards on disk, and reading (`load_dataset`, `iter_shards`)."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import jax
import numpy as np

from latentjax.classifier import Classifier
from latentjax.dataset.rows import SampleConfig, field_specs
from latentjax.generator import Generator
from latentjax.io import write_json

FORMAT = "latentjax-dataset/1"
MANIFEST = "manifest.json"
DEFAULT_FIELDS = ("z", "w", "probs")  # what load_dataset returns by default (probs only if stored)


def shard_name(k: int) -> str:
    return f"shard-{k:05d}.npz"


def fingerprint(tree) -> str:
    """Short sha256 of a pytree's leaf paths, shapes, dtypes and bytes (tells weights apart)."""
    h = hashlib.sha256()
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        a = np.ascontiguousarray(np.asarray(leaf))
        h.update(f"{jax.tree_util.keystr(path)}:{a.dtype}:{a.shape};".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()[:16]


def dataset_header(G: Generator, cfg: SampleConfig, classifier: Classifier | None = None) -> dict:
    """The manifest minus progress: everything a resumed run must agree on (JSON-normalised)."""
    c = G.config.to_dict()
    name = c.pop("name")
    header = {
        "format": FORMAT,
        "model": {
            "name": name,
            "arch": G.config.arch,
            "resolution": G.config.resolution,
            "config": c,
            "fingerprint": fingerprint(G.variables),
        },
        "z_dim": G.config.z_dim,
        "w_dim": G.config.w_dim,
        "num_ws": G.config.num_ws,
        "n": cfg.n,
        "shard_size": cfg.shard_size,
        "num_shards": cfg.num_shards,
        "seed": cfg.seed,
        "psi": cfg.psi,
        "noise_mode": cfg.noise_mode,
        "save_ws": cfg.save_ws,
        "thumbnails": cfg.thumbnails,
        "attributes": list(classifier.attributes) if classifier is not None else [],
        "classifier": None
        if classifier is None
        else {"resolution": classifier.config.resolution, "fingerprint": fingerprint(classifier.params)},
        "fields": field_specs(G, cfg, classifier),
    }
    return json.loads(json.dumps(header))


_DERIVED = ("z_dim", "w_dim", "num_ws", "num_shards", "fields")  # follow from model and settings


def header_mismatches(on_disk: dict, wanted: dict) -> list[str]:
    """Human-readable differences between two headers; model.name is informational only, derived
    keys are named only when nothing they derive from differs."""
    out, derived = [], []
    for k, v in wanted.items():
        old = on_disk.get(k)
        if k == "model" and isinstance(old, dict):
            old, v = {a: b for a, b in old.items() if a != "name"}, {a: b for a, b in v.items() if a != "name"}
            diff = sorted(a for a in set(old) | set(v) if old.get(a) != v.get(a))
            if diff:
                out.append(f"model ({', '.join(diff)} differ)")
        elif old != v:
            (derived if k in _DERIVED else out).append(f"{k}: {old!r} on disk, {v!r} requested")
    return out or derived


def write_manifest(out: Path, manifest: dict) -> None:
    write_json(out / MANIFEST, manifest)


def is_temp_file(p: Path) -> bool:
    return p.name.endswith(".tmp") and p.name.startswith((".shard-", f".{MANIFEST}."))


def read_manifest(out_dir: str | os.PathLike) -> dict:
    """The manifest of a dataset directory; ValueError if it has none or it is not ours."""
    path = Path(out_dir) / MANIFEST
    try:
        m = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{out_dir}: no {MANIFEST} (not a latentjax dataset directory)") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: unreadable ({e})") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT or not isinstance(m.get("shards"), list):
        raise ValueError(f"{path}: not a {FORMAT} manifest")
    return m


def _npz_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """{array: (shape, dtype)} of an .npz from the .npy headers alone (no array data read)."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            with zf.open(name) as f:
                major, _ = np.lib.format.read_magic(f)
                read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                shape, _, dtype = read(f)
            out[name.removesuffix(".npy")] = (tuple(shape), dtype)
    return out


def shard_problem(out: Path, entry: dict, header: dict) -> str | None:
    """Why a manifest entry is not a valid completed shard (None if it is): expected name and range,
    every field present with [rows, *per-row shape] and dtype, index == arange(start, stop)."""
    try:
        k, start, rows = int(entry["index"]), int(entry["start"]), int(entry["rows"])
        size, n = header["shard_size"], header["n"]
        if entry["file"] != shard_name(k) or start != k * size or rows != min(size, n - start) or rows < 1:
            return f"entry {entry} does not match shard_size {size} / n {n}"
        path = out / entry["file"]
        if not path.is_file():
            return f"{path.name} is missing"
        have = _npz_headers(path)
        for name, spec in header["fields"].items():
            want = ((rows, *spec["shape"]), np.dtype(spec["dtype"]))
            if have.get(name) != want:
                return f"{path.name}: {name} is {have.get(name)}, expected {want}"
        with np.load(path, allow_pickle=False) as f:
            if not np.array_equal(f["index"], np.arange(start, start + rows, dtype=np.int64)):
                return f"{path.name}: index is not rows {start}..{start + rows - 1}"
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as e:
        return f"{entry.get('file', entry)} unreadable ({type(e).__name__}: {e})"
    return None


def is_foreign_dir(out: Path) -> bool:
    """True for a path that is not a dataset directory we may write: a file, or a folder holding other things."""
    if not out.exists() or (out / MANIFEST).exists():
        return False
    return not out.is_dir() or any(not is_temp_file(p) for p in out.iterdir())


def _prepare_read(out_dir, fields: Sequence[str] | None, allow_partial: bool) -> tuple[Path, dict, list[str]]:
    out = Path(out_dir)
    m = read_manifest(out)
    if not m.get("complete") and not allow_partial:
        have = sum(e["rows"] for e in m["shards"])
        raise ValueError(f"{out}: dataset incomplete ({have}/{m['n']} rows; rerun sampling, or allow_partial=True)")
    stored = m["fields"]
    if fields is None:
        names = [f for f in DEFAULT_FIELDS if f in stored]
    else:
        if isinstance(fields, str):
            fields = (fields,)
        missing = [f for f in fields if f not in stored]
        if missing:
            raise ValueError(f"{out}: fields {missing} not stored (it has {sorted(stored)})")
        names = list(fields)
    return out, m, ["index", *(f for f in dict.fromkeys(names) if f != "index")]


def iter_shards(
    out_dir: str | os.PathLike, fields: Sequence[str] | None = None, allow_partial: bool = False
) -> Iterator[dict[str, np.ndarray]]:
    """Yield {field: [rows, ...], "index": [rows]} per completed shard, in row order (out-of-core use).

    fields: None = those of DEFAULT_FIELDS that are stored; asking for an unstored field is a
    ValueError. Without allow_partial an incomplete dataset is refused (raised here, not lazily).
    """
    out, m, names = _prepare_read(out_dir, fields, allow_partial)

    def gen():
        for e in sorted(m["shards"], key=lambda e: e["start"]):
            with np.load(out / e["file"], allow_pickle=False) as f:
                d = {k: f[k] for k in names}
            if not np.array_equal(d["index"], np.arange(e["start"], e["start"] + e["rows"], dtype=np.int64)):
                raise ValueError(f"{out / e['file']}: index does not match the manifest")
            yield d

    return gen()


def load_dataset(out_dir: str | os.PathLike, fields: Sequence[str] | None = None, allow_partial: bool = False) -> dict:
    """All rows in memory: {field: [N, ...], "index": [N] int64, "attributes": tuple of names}.

    fields: None = z, w and probs when stored (an explicitly named unstored field is a ValueError).
    Refuses an incomplete dataset unless allow_partial (then N counts the completed shards' rows;
    `index` says which). Arrays are filled shard by shard: no second copy.
    """
    out, m, names = _prepare_read(out_dir, fields, allow_partial)
    total = sum(e["rows"] for e in m["shards"])
    result = {k: np.empty((total, *m["fields"][k]["shape"]), np.dtype(m["fields"][k]["dtype"])) for k in names}
    at = 0
    for shard in iter_shards(out, names, allow_partial):
        rows = len(shard["index"])
        for k in names:
            result[k][at : at + rows] = shard[k]
        at += rows
    return {**result, "attributes": tuple(m["attributes"])}
