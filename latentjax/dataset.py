"""Latent datasets at scale: N rows of (z, w[, ws][, thumbnails][, classifier probabilities]) in
fixed-size .npz shards plus a manifest, written so that a killed run resumes without losing or
duplicating rows. The library side of `latentjax sample`.

Row i is a pure function of (model, classifier, seed, psi, noise_mode, i): its z is drawn from
`fold_in(key(seed), i)` (see `row_latents`), so batch size, shard size and resumption never change
which z a row gets. z and index are bit-identical across batch sizes; w / ws / probs / thumbs are
bit-identical for the same batch size and equal up to float rounding of batched matmuls otherwise.

Layout of a dataset directory (shapes per shard of `rows` rows):
    manifest.json      format tag, model, settings, attributes, fields, completed shards
    shard-00000.npz    index [rows] int64 (global row ids), z [rows, z_dim] float32,
                       w [rows, w_dim] float32 (mapping output after truncation, W+ row 0),
                       ws [rows, num_ws, w_dim] float32 (save_ws), thumbs [rows, t, t, C] uint8
                       (thumbnails=t), probs [rows, A] float32 (classifier, order of `attributes`)
Every file is written to a temporary sibling and renamed into place; a shard counts as done only
once the manifest (rewritten the same way) lists it. A shard on disk but not in the manifest
(killed between the two renames) is simply written again.

Several processes (`latentjax.distributed`, `latentjax launch`) share the work shard by shard: the
shards still missing are dealt round-robin, each process writes only its own shard files, and after
each round (one shard per process) the processes exchange what they wrote and process 0 alone
records it in the manifest. The rows are byte-identical to a single process's (same batches); a run
killed anywhere, on any process, resumes with any number of processes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.classifier import Classifier
from latentjax.generator import Generator, check_noise_mode, random_noise
from latentjax.io import atomic_write_file, dir_lock
from latentjax.media import to_uint8
from latentjax.ops.resample import resize_images

FORMAT = "latentjax-dataset/1"
MANIFEST = "manifest.json"
DEFAULT_FIELDS = ("z", "w", "probs")  # what load_dataset returns by default (probs only if stored)
_NOISE_TAG = 0x6E6F6973  # fold_in tag: a row's noise key, distinct from its z key


@dataclass(frozen=True)
class SampleConfig:
    """What to sample. Only `batch` may change between a run and its resumption.

    n: rows (global ids 0..n-1); batch: rows per device call (lower it for large images);
    shard_size: rows per shard file (the most rows ever held in memory); seed, psi: z stream and
    truncation (all layers); save_ws: also store W+ (num_ws x larger than w); thumbnails: side of
    stored uint8 thumbnails (0 = none); noise_mode: synthesis noise for thumbnails / probs
    ('random' noise is drawn per row, so it too is independent of batching).
    """

    n: int
    batch: int = 256
    shard_size: int = 10_000
    seed: int = 0
    psi: float = 1.0
    save_ws: bool = False
    thumbnails: int = 0
    noise_mode: str = "const"

    def __post_init__(self):
        for name, lo, hi in (
            ("n", 1, 2**32),  # row ids are folded in as uint32
            ("batch", 1, None),
            ("shard_size", 1, None),
            ("seed", 0, 2**32 - 1),  # jax.random.key wraps larger seeds silently
            ("thumbnails", 0, None),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo or (hi is not None and v > hi):
                rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
                raise ValueError(f"{name} must be an int {rng}, got {v!r}")
            object.__setattr__(self, name, int(v))
        if not math.isfinite(float(self.psi)):
            raise ValueError(f"psi must be finite, got {self.psi!r}")
        object.__setattr__(self, "psi", float(self.psi))
        object.__setattr__(self, "save_ws", bool(self.save_ws))
        check_noise_mode(self.noise_mode)

    @property
    def num_shards(self) -> int:
        return -(-self.n // self.shard_size)

    def shard_rows(self, k: int) -> tuple[int, int]:
        """Global row range [start, stop) of shard k."""
        start = k * self.shard_size
        return start, min(start + self.shard_size, self.n)


@dataclass(frozen=True)
class ShardInfo:
    """Passed to `on_shard` once shard `index` is on disk and recorded in the manifest."""

    index: int
    start: int
    rows: int
    path: Path
    done_rows: int  # rows complete in the dataset so far (resumed ones included)
    total_rows: int


@dataclass(frozen=True)
class SampleReport:
    out_dir: Path
    rows: int
    shards: int
    written: tuple[int, ...]  # shard indices written by this call
    skipped: int  # shards already complete (resumed)
    seconds: float


def shard_name(k: int) -> str:
    return f"shard-{k:05d}.npz"


# ---- functional core: rows of the dataset ---------------------------------------------------------


def _check_seed(seed: int) -> int:
    if not 0 <= int(seed) < 2**32:  # jax.random.key would wrap it onto another seed
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    return int(seed)


def _row_ids(ids) -> jax.Array:
    """[B] row ids -> uint32 (fold_in data), refusing ids that would wrap."""
    a = np.asarray(ids)
    if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and (a.min() < 0 or a.max() >= 2**32)):
        raise ValueError(f"row ids must be a 1-d integer array in [0, 2**32), got {a.dtype} {a.shape}")
    return jnp.asarray(a, jnp.uint32)


@functools.partial(jax.jit, static_argnames=("z_dim",))
def _row_z(root: jax.Array, ids: jax.Array, *, z_dim: int) -> jax.Array:
    return jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(root, i), (z_dim,), jnp.float32))(ids)


def row_latents(seed: int, ids, z_dim: int) -> jax.Array:
    """ids: [B] global row ids -> z: [B, z_dim] float32; row i is N(0, I) from fold_in(key(seed), i),
    so it depends on (seed, i) alone (vmapped threefry is elementwise: bit-identical for any B)."""
    return _row_z(jax.random.key(_check_seed(seed)), _row_ids(ids), z_dim=z_dim)


@functools.partial(jax.jit, static_argnames=("cfg",))
def _row_noise(root: jax.Array, ids: jax.Array, *, cfg) -> list[jax.Array]:
    def one(i):
        return [m[0] for m in random_noise(cfg, jax.random.fold_in(jax.random.fold_in(root, i), _NOISE_TAG), 1)]

    return jax.vmap(one)(ids)


def row_noise(G: Generator, seed: int, ids) -> list[jax.Array]:
    """Per-row noise maps for noise_mode 'random': one [B, H, W] per noise layer, row i from (seed, i)."""
    return _row_noise(jax.random.key(_check_seed(seed)), _row_ids(ids), cfg=G.config)


def sample_rows(G: Generator, ids: np.ndarray, cfg: SampleConfig, classifier: Classifier | None = None) -> dict:
    """Rows `ids` ([B] global ids) of the dataset `cfg` describes -> {field: numpy [B, ...]}.

    Images are synthesised only if thumbnails or probs are wanted; the classifier sees raw images
    (resized to its resolution when that differs from the generator's).
    """
    ids = np.asarray(ids, np.int64)
    z = row_latents(cfg.seed, ids, G.config.z_dim)
    ws = G.mapping(z, cfg.psi)
    out = {"index": ids, "z": np.asarray(z), "w": np.asarray(ws[:, 0])}
    if cfg.save_ws:
        out["ws"] = np.asarray(ws)
    if cfg.thumbnails or classifier is not None:
        if cfg.noise_mode == "random":  # every layer overridden: the base mode is irrelevant
            images = G.synthesis(ws, noise_mode="const", noise=row_noise(G, cfg.seed, ids))
        else:
            images = G.synthesis(ws, noise_mode=cfg.noise_mode)
        if cfg.thumbnails:
            out["thumbs"] = to_uint8(resize_images(images, cfg.thumbnails))
        if classifier is not None:
            x = resize_images(images, classifier.config.resolution)
            out["probs"] = np.asarray(classifier.probabilities(x, batch=len(ids)), np.float32)
    return out


def field_specs(G: Generator, cfg: SampleConfig, classifier: Classifier | None = None) -> dict:
    """{field: {"shape": per-row shape, "dtype": str}} of every array a shard holds."""
    c = G.config
    specs = {"index": ([], "int64"), "z": ([c.z_dim], "float32"), "w": ([c.w_dim], "float32")}
    if cfg.save_ws:
        specs["ws"] = ([c.num_ws, c.w_dim], "float32")
    if cfg.thumbnails:
        specs["thumbs"] = ([cfg.thumbnails, cfg.thumbnails, c.img_channels], "uint8")
    if classifier is not None:
        specs["probs"] = ([len(classifier.attributes)], "float32")
    return {k: {"shape": s, "dtype": d} for k, (s, d) in specs.items()}


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


def _mismatches(on_disk: dict, wanted: dict) -> list[str]:
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


# ---- files ------------------------------------------------------------------------------------------


def _write_manifest(out: Path, manifest: dict) -> None:
    atomic_write_file(out / MANIFEST, lambda f: f.write(json.dumps(manifest, indent=1).encode()))


def _is_temp(p: Path) -> bool:
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


def _shard_problem(out: Path, entry: dict, header: dict) -> str | None:
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


def _foreign(out: Path) -> bool:
    """True for a path that is not a dataset directory we may write: a file, or a folder holding other things."""
    if not out.exists() or (out / MANIFEST).exists():
        return False
    return not out.is_dir() or any(not _is_temp(p) for p in out.iterdir())


def _open_dataset(out: Path, header: dict) -> dict:
    """Create the directory and manifest, or validate an existing one for resumption: refuse a
    different header, drop stale temp files, keep only completed shards that verify."""
    if (out / MANIFEST).exists():
        m = read_manifest(out)
        diff = _mismatches(m, header)
        if diff:
            raise ValueError(
                f"{out} holds a dataset made with other settings ({'; '.join(diff)}); "
                "resume with the same model and settings, or use a new directory"
            )
    elif _foreign(out):
        raise ValueError(f"{out} exists and is not a latentjax dataset (no {MANIFEST}); use a new or empty directory")
    else:
        out.mkdir(parents=True, exist_ok=True)
        m = {**header, "shards": [], "complete": False}
    for p in out.iterdir():
        if _is_temp(p):  # a write cut short by a kill: never renamed, so never counted
            p.unlink(missing_ok=True)
    kept = []
    for entry in m["shards"]:
        problem = _shard_problem(out, entry, header) if isinstance(entry, dict) else f"bad entry {entry!r}"
        if problem is None:
            kept.append(entry)
        else:
            warnings.warn(f"{out}: shard will be written again: {problem}", stacklevel=3)
    by_index = {e["index"]: e for e in kept}  # a duplicated entry counts once
    m = {**header, "shards": [by_index[k] for k in sorted(by_index)], "complete": len(by_index) == header["num_shards"]}
    if by_index:  # same z stream? (a jax upgrade or another PRNG implementation would change it)
        first = m["shards"][0]
        with np.load(out / first["file"], allow_pickle=False) as f:
            stored = f["z"][:1]
        if not np.array_equal(stored, np.asarray(row_latents(header["seed"], [first["start"]], header["z_dim"]))):
            raise ValueError(f"{out}: this jax draws different z for seed {header['seed']} than the run that wrote it")
    _write_manifest(out, m)
    return m


# ---- shell -------------------------------------------------------------------------------------------


def _sample_range(G, cfg: SampleConfig, classifier, start: int, stop: int, batch: int, update) -> dict:
    """Rows [start, stop) as {field: numpy array}; every device call padded to `batch` rows (one compile)."""
    out = None
    for lo in range(start, stop, batch):
        ids = np.arange(lo, min(lo + batch, stop), dtype=np.int64)
        padded = np.concatenate([ids, np.full(batch - len(ids), ids[-1], np.int64)])
        rows = sample_rows(G, padded, cfg, classifier)
        if out is None:
            out = {f: np.empty((stop - start, *a.shape[1:]), a.dtype) for f, a in rows.items()}
        for f, a in rows.items():
            out[f][lo - start : lo - start + len(ids)] = a[: len(ids)]
        update(len(ids))
    return out


def sample_arrays(
    G: Generator, cfg: SampleConfig, classifier: Classifier | None = None, progress: bool = False
) -> dict[str, np.ndarray]:
    """The dataset `cfg` describes, in memory: {field: [n, ...]}, the same rows `sample_dataset` writes
    (row i depends only on seed and i). For metric runs that do not need files; `cfg.shard_size` unused.
    With several processes (`latentjax.distributed`) the batches are split between them and every
    process returns all n rows."""
    from tqdm import tqdm

    from latentjax.distributed import allgather_arrays
    from latentjax.sharding import process_block

    if classifier is not None and G.config.img_channels != 3:
        raise ValueError(f"the classifier needs RGB images; this generator makes {G.config.img_channels} channels")
    batch = min(cfg.batch, cfg.n)
    # Several processes: each takes a block of whole batches, so every row is computed in the same
    # padded batch as by one process (bit-identical), then all rows are gathered on every process.
    b0, b1 = process_block(-(-cfg.n // batch))
    start, stop = b0 * batch, min(b1 * batch, cfg.n)
    with tqdm(
        total=stop - start, unit="row", desc="sample", disable=not progress or start == stop or jax.process_index() > 0
    ) as bar:
        if start < stop:
            rows = _sample_range(G, cfg, classifier, start, stop, batch, bar.update)
        else:
            specs = field_specs(G, cfg, classifier)
            rows = {k: np.empty((0, *v["shape"]), v["dtype"]) for k, v in specs.items()}
    return allgather_arrays(rows, "gathering sampled rows")


def sample_dataset(
    G: Generator,
    out_dir: str | os.PathLike,
    cfg: SampleConfig,
    classifier: Classifier | None = None,
    progress: bool = True,
    on_shard: Callable[[ShardInfo], None] | None = None,
) -> SampleReport:
    """Write (or finish) the dataset `cfg` describes in `out_dir`; see the module docstring.

    Resumes a killed run: completed shards are verified and skipped, missing ones written. Raises
    ValueError if `out_dir` holds a dataset with other settings (n, seed, psi, shard_size, model,
    classifier, noise_mode, stored fields). At most one shard is held in memory. `progress`: a tqdm
    bar over rows (rate, ETA; starts at the rows already done). `on_shard(ShardInfo)` runs after
    each shard is recorded (an exception there stops the run; rerunning resumes after that shard).
    Several processes: every one calls this; see the module docstring (the report and `on_shard`
    cover every process's shards, on every process; only process 0 shows progress).
    A second run on the same `out_dir` while this one holds it raises InputError "in use by pid N"
    (process 0 of a job holds the folder: it owns the manifest and clears stale temp files).
    """
    t0 = time.perf_counter()
    if classifier is not None and G.config.img_channels != 3:
        raise ValueError(f"the classifier needs RGB images; this generator makes {G.config.img_channels} channels")
    out = Path(out_dir)
    header = dataset_header(G, cfg, classifier)
    first = jax.process_index() == 0
    if first and _foreign(out):  # refused before the directory is created and locked
        _open_dataset(out, header)
    lock = dir_lock(out, "`latentjax sample`") if first else contextlib.nullcontext()
    with lock:  # a second writer would delete this one's temp files
        return _sample_locked(G, out, cfg, classifier, header, progress, on_shard, t0)


def _sample_locked(G, out: Path, cfg, classifier, header: dict, progress: bool, on_shard, t0: float) -> SampleReport:
    from tqdm import tqdm

    from latentjax import distributed as dist
    from latentjax.sharding import process_items

    first = jax.process_index() == 0
    # Process 0 alone validates / creates the directory and owns the manifest; the others learn the
    # completed shards from it (so only a shared output directory is needed, not a shared manifest view).
    opened = dist.on_first(lambda: _open_dataset(out, header), f"opening {out}")
    manifest = opened if first else None
    diff = [] if first else _mismatches(opened, header)
    if diff:  # every process must sample the same dataset (same model, settings)
        me = jax.process_index()
        raise ValueError(f"process {me} was started with other settings than process 0: {'; '.join(diff)}")
    done = {e["index"] for e in opened["shards"]}
    done_rows = sum(e["rows"] for e in opened["shards"])
    batch = min(cfg.batch, cfg.shard_size, cfg.n)  # every call padded to this: one compile per program
    todo = [k for k in range(cfg.num_shards) if k not in done]
    mine = process_items(todo)  # round-robin over what is left: a resumed run stays balanced
    rounds = -(-len(todo) // jax.process_count())
    written = []
    with tqdm(total=cfg.n, initial=done_rows, unit="row", desc=out.name, disable=not (progress and first)) as bar:
        for r in range(rounds):  # one shard per process per round, then one exchange of what was written
            entry = None
            if r < len(mine):
                k = mine[r]
                start, stop = cfg.shard_rows(k)
                shard = _sample_range(G, cfg, classifier, start, stop, batch, bar.update)
                atomic_write_file(out / shard_name(k), lambda f, s=shard: np.savez(f, **s))
                del shard
                entry = {"index": k, "file": shard_name(k), "start": start, "rows": stop - start}
            entries = [e for e in dist.allgather_json(entry, f"sampling round {r + 1}/{rounds}") if e is not None]
            if first:
                bar.update(sum(e["rows"] for e in entries if e != entry))  # peers' rows
                manifest["shards"] = sorted([*manifest["shards"], *entries], key=lambda e: e["index"])
                manifest["complete"] = len(manifest["shards"]) == cfg.num_shards
                _write_manifest(out, manifest)
            for e in entries:
                written.append(e["index"])
                done_rows += e["rows"]
                if on_shard is not None:
                    on_shard(ShardInfo(e["index"], e["start"], e["rows"], out / e["file"], done_rows, cfg.n))
    written.sort()
    return SampleReport(out, cfg.n, cfg.num_shards, tuple(written), len(done), time.perf_counter() - t0)


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
