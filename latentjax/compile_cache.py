"""A persistent XLA compilation cache for the command line (and for notebooks that ask for it).

On CPU the first call of a generator, projector or solver spends seconds to minutes in XLA's
compiler; JAX can keep the compiled programs on disk and reuse them in the next process with the
same program, shapes, JAX version and flags. `latentjax <command>` turns that on (a toy `generate`
of 4 images: 8.5-9.8 s without, 5.1 s with it), in the user's own cache directory:

    $LATENTJAX_COMPILE_CACHE          a directory, or 0 / off / no / false to turn it off
    $XDG_CACHE_HOME/latentjax/xla     otherwise (~/.cache/latentjax/xla without XDG_CACHE_HOME)

JAX's own JAX_COMPILATION_CACHE_DIR, when set, wins (JAX reads it itself). Nothing is evicted
(JAX's size cap needs the `filelock` package, not a dependency here): each new program adds a file
(the toy `generate`'s: 84 KB); deleting the directory is always safe. The directory holds
programs this user's processes compiled; it is not a place to put files from elsewhere. The
library never turns the cache on by itself: a notebook calls `enable()`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

OFF = frozenset({"0", "off", "no", "false"})


def cache_dir(env: Mapping[str, str] | None = None) -> Path | None:
    """The directory the cache should use under environment `env` (default os.environ), or None
    when it is off or JAX_COMPILATION_CACHE_DIR already names one (JAX then uses that)."""
    env = os.environ if env is None else env
    if env.get("JAX_COMPILATION_CACHE_DIR"):
        return None
    own = env.get("LATENTJAX_COMPILE_CACHE", "").strip()
    if own.lower() in OFF:
        return None
    if own:
        return Path(own).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "latentjax" / "xla"


def enable(directory: str | os.PathLike | None = None) -> Path | None:
    """Point JAX's persistent compilation cache at `directory` (default: `cache_dir()`), creating it.
    Returns the directory, or None when the cache stays as it was (off, JAX's own variable set, or
    the directory cannot be created: compiling without a cache is only slower, so that is silent).
    Call before the first jit compile of the process."""
    path = Path(directory) if directory is not None else cache_dir()
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(path, os.W_OK):
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(path))
    return path
