"""Generic file I/O: all-or-nothing writes of files and directories, and config.json readers."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
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


def to_jsonable(x):
    """Dataclasses / dicts / sequences / numpy arrays and scalars -> plain JSON values (nested)."""
    import dataclasses

    if dataclasses.is_dataclass(x):
        return {f.name: to_jsonable(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    if isinstance(x, np.ndarray) or hasattr(x, "__array__"):
        return np.asarray(x).tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x


def write_json(path: str | os.PathLike, payload) -> Path:
    """`to_jsonable(payload)` as indented JSON at `path` (parent folders made), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_jsonable(payload), indent=1).encode()
    return atomic_write_file(path, lambda f: f.write(text))


def read_config_json(p: Path, fmt: str) -> dict:
    """p / config.json as a dict whose "format" is `fmt`; LoadError naming the problem otherwise."""
    try:
        doc = json.loads((p / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise LoadError(f"{p}: unreadable config.json ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise LoadError(f"{p}: config.json is not a {fmt} file")
    return doc


@contextlib.contextmanager
def dir_lock(d: str | os.PathLike, what: str = "latentjax"):
    """Hold an exclusive lock on directory `d` (created if missing) for the `with` block, or raise
    InputError "in use by pid N" at once when another process holds it.

    The lock is flock on the directory itself: no lock file is left behind, and the kernel releases
    it when the holder exits or is killed. It keeps two writers of one folder from deleting each
    other's temporary files. The holder's pid comes from /proc/locks (Linux; "?" elsewhere).
    """
    import fcntl

    from latentjax.errors import InputError

    d = Path(d)
    if d.exists() and not d.is_dir():
        raise InputError(f"{d}: exists and is not a directory")
    d.mkdir(parents=True, exist_ok=True)
    fd = os.open(d, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _flock_holder(os.fstat(fd).st_ino) or "?"
            raise InputError(
                f"{d}: in use by pid {pid} (another {what} is writing it; wait for it to finish)"
            ) from None
        yield d
    finally:
        os.close(fd)  # releases the flock


def _flock_holder(inode: int) -> str | None:
    """pid holding a flock on `inode`, from /proc/locks ("1: FLOCK ADVISORY WRITE <pid> <maj:min:inode> ...")."""
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        f = line.split()
        if len(f) >= 6 and f[1] == "FLOCK" and "->" not in f and f[5].rsplit(":", 1)[-1] == str(inode):
            return f[4]
    return None


@contextlib.contextmanager
def quiet_restore(drain_s: float = 0.5):
    """Around an orbax restore: orbax / absl log lines are muted and fd 2 points at /dev/null, so a
    failed restore is reported by the caller alone, in one line.

    Why fd 2: after a failed restore, tensorstore's outstanding reads of the other arrays complete
    on its own threads and call back into orbax's closed asyncio loop; each prints a "RuntimeError:
    Event loop is closed" traceback straight from C (no Python hook sees it): dozens for a real
    model, interleaved with our message. A failed restore waits `drain_s` for them while fd 2 is
    still redirected; stragglers at interpreter exit are dropped by `_drop_exit_noise`.
    """
    loggers = [logging.getLogger(n) for n in ("absl", "orbax", "orbax.checkpoint")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR + 10)
    saved = _redirect_fd2()
    failed = False
    try:
        yield
    except Exception:
        failed = True
        raise
    finally:
        if failed:
            time.sleep(drain_s)
            _drop_exit_noise()
        if saved is not None:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        for lg, lvl in zip(loggers, levels):
            lg.setLevel(lvl)


def _redirect_fd2() -> int | None:
    """Point fd 2 at /dev/null; returns a duplicate of the old fd 2 (None if there is none)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        return None
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    return saved


_EXIT_SILENCED = False


def _drop_exit_noise() -> None:
    """Once a restore failed, fd 2 goes to /dev/null at interpreter exit, where late callbacks of the
    failed reads would print (atexit runs last-registered first: handlers registered before the
    failure print into /dev/null too; Python's own stdout / stderr are flushed first)."""
    global _EXIT_SILENCED
    if _EXIT_SILENCED:
        return
    _EXIT_SILENCED = True
    import atexit

    atexit.register(_redirect_fd2)
