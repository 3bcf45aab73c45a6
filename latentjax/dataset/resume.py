"""Writing and resuming: `sample_dataset` opens (or verifies, for resumption) a dataset directory,
writes the missing shards (shared round-robin between processes) and records each in the manifest."""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np

from latentjax.classifier import Classifier
from latentjax.dataset.rows import SampleConfig, row_latents, sample_range
from latentjax.dataset.storage import (
    MANIFEST,
    dataset_header,
    header_mismatches,
    is_foreign_dir,
    is_temp_file,
    read_manifest,
    shard_name,
    shard_problem,
    write_manifest,
)
from latentjax.generator import Generator
from latentjax.io import atomic_write_file, dir_lock


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


def _open_dataset(out: Path, header: dict) -> dict:
    """Create the directory and manifest, or validate an existing one for resumption: refuse a
    different header, drop stale temp files, keep only completed shards that verify."""
    if (out / MANIFEST).exists():
        m = read_manifest(out)
        diff = header_mismatches(m, header)
        if diff:
            raise ValueError(
                f"{out} holds a dataset made with other settings ({'; '.join(diff)}); "
                "resume with the same model and settings, or use a new directory"
            )
    elif is_foreign_dir(out):
        raise ValueError(f"{out} exists and is not a latentjax dataset (no {MANIFEST}); use a new or empty directory")
    else:
        out.mkdir(parents=True, exist_ok=True)
        m = {**header, "shards": [], "complete": False}
    for p in out.iterdir():
        if is_temp_file(p):  # a write cut short by a kill: never renamed, so never counted
            p.unlink(missing_ok=True)
    kept = []
    for entry in m["shards"]:
        problem = shard_problem(out, entry, header) if isinstance(entry, dict) else f"bad entry {entry!r}"
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
    write_manifest(out, m)
    return m


def sample_dataset(
    G: Generator,
    out_dir: str | os.PathLike,
    cfg: SampleConfig,
    classifier: Classifier | None = None,
    progress=True,
    on_shard: Callable[[ShardInfo], None] | None = None,
) -> SampleReport:
    """Write (or finish) the dataset `cfg` describes in `out_dir`; see the module docstring.

    Resumes a killed run: completed shards are verified and skipped, missing ones written. Raises
    ValueError if `out_dir` holds a dataset with other settings (n, seed, psi, shard_size, model,
    classifier, noise_mode, stored fields). At most one shard is held in memory. `progress`: a
    callback progress(rows done, n) or True for a tqdm bar (both start at the rows already done).
    `on_shard(ShardInfo)` runs after each shard is recorded (an exception there stops the run;
    rerunning resumes after that shard).
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
    if first and is_foreign_dir(out):  # refused before the directory is created and locked
        _open_dataset(out, header)
    lock = dir_lock(out, "`latentjax sample`") if first else contextlib.nullcontext()
    with lock:  # a second writer would delete this one's temp files
        return _sample_locked(G, out, cfg, classifier, header, progress, on_shard, t0)


def _sample_locked(G, out: Path, cfg, classifier, header: dict, progress, on_shard, t0: float) -> SampleReport:
    from latentjax import distributed as dist
    from latentjax.progress import Reporter
    from latentjax.sharding import process_items

    first = jax.process_index() == 0
    # Process 0 alone validates / creates the directory and owns the manifest; the others learn the
    # completed shards from it (so only a shared output directory is needed, not a shared manifest view).
    opened = dist.on_first(lambda: _open_dataset(out, header), f"opening {out}")
    manifest = opened if first else None
    diff = [] if first else header_mismatches(opened, header)
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
    with Reporter(progress if first else None, cfg.n, out.name, "row", initial=done_rows) as bar:
        for r in range(rounds):  # one shard per process per round, then one exchange of what was written
            entry = None
            if r < len(mine):
                k = mine[r]
                start, stop = cfg.shard_rows(k)
                shard = sample_range(G, cfg, classifier, start, stop, batch, bar.update)
                atomic_write_file(out / shard_name(k), lambda f, s=shard: np.savez(f, **s))
                del shard
                entry = {"index": k, "file": shard_name(k), "start": start, "rows": stop - start}
            entries = [e for e in dist.allgather_json(entry, f"sampling round {r + 1}/{rounds}") if e is not None]
            if first:
                bar.update(sum(e["rows"] for e in entries if e != entry))  # peers' rows
                manifest["shards"] = sorted([*manifest["shards"], *entries], key=lambda e: e["index"])
                manifest["complete"] = len(manifest["shards"]) == cfg.num_shards
                write_manifest(out, manifest)
            for e in entries:
                written.append(e["index"])
                done_rows += e["rows"]
                if on_shard is not None:
                    on_shard(ShardInfo(e["index"], e["start"], e["rows"], out / e["file"], done_rows, cfg.n))
    written.sort()
    return SampleReport(out, cfg.n, cfg.num_shards, tuple(written), len(done), time.perf_counter() - t0)
