"""Several processes (hosts), one result: JAX's own distributed runtime, on CPU with gloo collectives.

Every heavy command runs the same way on 1 or N processes. `initialize` joins the job from
`--coordinator HOST:PORT --num-processes N --process-id I`, or from an environment JAX detects
itself (JAX_COORDINATOR_ADDRESS, SLURM with > 1 task, Open MPI, TPU pods); with neither it is a
no-op and everything stays single-process. Work is then split by `latentjax.sharding`
(`process_block`: contiguous rows, `process_items`: round-robin shards / attributes / batches,
`global_mesh`: the devices of all processes); the few results every process needs are exchanged
with the small collectives here. Files are written by the process that computed them; manifests
and single summary files by process 0 only.

A peer that dies makes the next collective fail: that surfaces as `PeerError`, a one-line message
naming the process(es) no longer alive, and the CLI exits at once (a normal exit would wait in
JAX's shutdown barrier for the dead peer). Rerunning the command resumes where shards allow it.
Exception: process 0 hosts the coordination service, and when it dies JAX's runtime ends the
others itself ("Terminating process because the JAX distributed service detected fatal errors
... another task died"; its Python hook for this cannot be given a callback here); rerunning
resumes all the same.

`launch_local(argv, n)` starts N local processes of `python -m latentjax ARGV` with a 127.0.0.1
coordinator (`latentjax launch -n N -- ...`): for trying things out, tests and benchmarks.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import jax
import numpy as np

_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
_RUNTIME_FAILURE = re.compile(r"Gloo|UNAVAILABLE|DEADLINE_EXCEEDED|Connection (closed|reset)|heartbeat|ABORTED")


class PeerError(RuntimeError):
    """Another process of the job died or became unreachable (the message names it)."""


@dataclass(frozen=True)
class DistributedConfig:
    """How this process joins a job; all None = from the environment JAX detects, or single-process.

    coordinator: "HOST:PORT" of process 0's coordination service; num_processes >= 1;
    process_id in [0, num_processes); init_timeout: seconds to wait for every process to join;
    heartbeat_timeout: seconds of silence after which a peer counts as dead and the job fails
    (JAX's default, 100; shorter surfaces a crashed peer sooner, too short fails busy ones).
    """

    coordinator: str | None = None
    num_processes: int | None = None
    process_id: int | None = None
    init_timeout: int = 300
    heartbeat_timeout: int = 100

    def __post_init__(self):
        given = [v is not None for v in (self.coordinator, self.num_processes, self.process_id)]
        if any(given) and not all(given):
            raise ValueError("--coordinator, --num-processes and --process-id go together (give all three or none)")
        if self.coordinator is not None:
            parse_coordinator(self.coordinator)
            n, i = self.num_processes, self.process_id
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"--num-processes must be an int >= 1, got {n!r}")
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
                raise ValueError(f"--process-id must be an int in [0, {n}), got {i!r}")
        for name in ("init_timeout", "heartbeat_timeout"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1 s, got {getattr(self, name)}")

    @property
    def explicit(self) -> bool:
        return self.coordinator is not None


def parse_coordinator(address: str) -> tuple[str, int]:
    """'HOST:PORT' (IPv6 as [::1]:PORT) -> (host, port); ValueError naming the problem."""
    m = re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):(\d{1,5})", address.strip())
    if not m or not 0 < int(m[2]) < 65536:
        raise ValueError(f"--coordinator must be HOST:PORT with a port in 1..65535, got {address!r}")
    return m[1], int(m[2])


def cluster_env(environ=None) -> str | None:
    """The multi-process environment JAX's own auto-detection would use, named; None if there is none
    (a single SLURM task or MPI rank is not a job of several processes)."""
    env = os.environ if environ is None else environ

    def count(key):
        try:
            return int(env.get(key, "1").split("(")[0])  # SLURM_TASKS_PER_NODE style "2(x3)": first number
        except ValueError:
            return 1

    if env.get("JAX_COORDINATOR_ADDRESS"):
        return "JAX_COORDINATOR_ADDRESS"
    if env.get("SLURM_JOB_ID") and max(count("SLURM_NTASKS"), count("SLURM_NPROCS")) > 1:
        return "SLURM"
    if count("OMPI_COMM_WORLD_SIZE") > 1:
        return "Open MPI"
    if "," in env.get("TPU_WORKER_HOSTNAMES", ""):
        return "TPU pod"
    return None


def is_initialized() -> bool:
    from jax._src import distributed as _jd  # the runtime's state: jax has no public accessor

    return _jd.global_state.client is not None


def initialize(cfg: DistributedConfig | None = None) -> int:
    """Join the job `cfg` (or the environment) describes; returns jax.process_count().

    Must run before anything touches a device. Idempotent; single-process when nothing is given.
    A loopback coordinator binds to 127.0.0.1 only (JAX's default is every interface).
    """
    cfg = cfg or DistributedConfig()
    if is_initialized():
        return jax.process_count()
    if not cfg.explicit and cluster_env() is None:
        return 1
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU collectives across processes
    # A dead peer must surface as an error in our next collective (PeerError, naming it), not as
    # the coordination service aborting every other process from a background thread.
    jax.config.update("jax_enable_recoverability", True)
    kwargs = {"initialization_timeout": cfg.init_timeout, "heartbeat_timeout_seconds": cfg.heartbeat_timeout}
    where = cluster_env() or "the environment"
    if cfg.explicit:
        host, port = parse_coordinator(cfg.coordinator)
        kwargs.update(coordinator_address=cfg.coordinator, num_processes=cfg.num_processes, process_id=cfg.process_id)
        if host in _LOOPBACK:
            kwargs["coordinator_bind_address"] = f"127.0.0.1:{port}"
        where = f"{cfg.coordinator} as process {cfg.process_id} of {cfg.num_processes}"
    try:
        jax.distributed.initialize(**kwargs)
    except Exception as e:  # JaxRuntimeError (timeout, refused) or ValueError from JAX's detection
        raise PeerError(f"could not join the job at {where}: {_first_line(e)}") from None
    return jax.process_count()


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:300] if text else type(e).__name__


def dead_peers() -> list[int]:
    """Process ids the coordination service no longer sees alive (empty if it cannot tell)."""
    from jax._src import distributed as _jd

    n = jax.process_count()
    try:
        live = _jd.global_state.client.get_live_nodes(list(range(n)))
    except Exception:  # the service itself may be gone (process 0 died)
        return [0] if jax.process_index() != 0 else []
    alive = set(live) if not isinstance(live, dict) else set(live)
    return [i for i in range(n) if i not in alive]


@contextmanager
def collective(what: str):
    """Turn a failed cross-process step into PeerError naming the peers that died."""
    try:
        yield
    except (jax.errors.JaxRuntimeError, ValueError) as e:
        # jit re-raises the runtime's failure as ValueError: only transport / runtime failures are ours
        if not isinstance(e, jax.errors.JaxRuntimeError) and not _RUNTIME_FAILURE.search(str(e)):
            raise
        me, n = jax.process_index(), jax.process_count()
        deadline = time.monotonic() + 10  # the service may notice a closed connection a moment later
        while not (dead := [i for i in dead_peers() if i != me]) and time.monotonic() < deadline:
            time.sleep(0.2)
        who = (
            f"process {', '.join(map(str, dead))} of {n} stopped"
            if dead
            else f"a peer of process {me} of {n} stopped or is unreachable"
        )
        raise PeerError(
            f"{who} during {what} ({_first_line(e)}); rerun the same command on every process to resume"
        ) from None


def allgather_bytes(data: bytes, what: str = "an exchange") -> list[bytes]:
    """Every process's `data`, in process order (two small all-gathers: lengths, then padded bytes)."""
    if jax.process_count() == 1:
        return [data]
    from jax.experimental import multihost_utils

    with collective(what):
        lengths = np.asarray(multihost_utils.process_allgather(np.array([len(data)], np.int64))).reshape(-1)
        buf = np.zeros(int(lengths.max()) or 1, np.uint8)
        buf[: len(data)] = np.frombuffer(data, np.uint8)
        stacked = np.asarray(multihost_utils.process_allgather(buf))
    return [stacked[i, : lengths[i]].tobytes() for i in range(len(lengths))]


def allgather_json(obj, what: str = "an exchange") -> list:
    """Every process's JSON-able `obj`, in process order."""
    return [json.loads(b) for b in allgather_bytes(json.dumps(obj).encode(), what)]


def on_first(fn, what: str):
    """fn() on process 0 only; its result (JSON-able) on every process. Its ValueError is raised on
    every process (so no peer waits on a collective that never comes)."""
    if jax.process_count() == 1:
        return fn()
    if jax.process_index() == 0:
        try:
            payload = {"ok": fn()}
        except ValueError as e:
            payload = {"error": str(e)}
    else:
        payload = None
    first = allgather_json(payload, what)[0]
    if "error" in first:
        raise ValueError(first["error"])
    return first["ok"]


def allgather_arrays(local: dict[str, np.ndarray], what: str = "gathering rows") -> dict[str, np.ndarray]:
    """{name: [rows_p, ...]} of every process -> {name: concatenated in process order}. Row counts may
    differ between processes; per-row shapes and dtypes may not."""
    if jax.process_count() == 1:
        return dict(local)
    from jax.experimental import multihost_utils

    names = sorted(local)
    rows = {k: len(local[k]) for k in names}
    counts = allgather_json([rows[k] for k in names], what)
    out = {}
    with collective(what):
        for j, k in enumerate(names):
            a = np.ascontiguousarray(local[k])
            most = max(c[j] for c in counts)
            padded = np.zeros((most, *a.shape[1:]), a.dtype)
            padded[: len(a)] = a
            g = np.asarray(multihost_utils.process_allgather(padded))  # [P, most, ...]
            out[k] = np.concatenate([g[p, : c[j]] for p, c in enumerate(counts)])
    return out


def barrier(what: str) -> None:
    """Wait for every process (a no-op alone)."""
    if jax.process_count() > 1:
        allgather_bytes(b"", what)


def shutdown(timeout: float = 60.0) -> None:
    """Leave the job cleanly (every process calls it at the end): wait for all, the others disconnect
    first, process 0 (which hosts the coordination service) last, so nobody loses the service
    while disconnecting. A no-op when not initialized."""
    if not is_initialized():
        return
    from jax._src import distributed as _jd

    n = jax.process_count()
    barrier("finishing")
    if jax.process_index() == 0 and n > 1:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if len(_jd.global_state.client.get_live_nodes(list(range(n)))) <= 1:
                    break
            except Exception:
                break
            time.sleep(0.05)
    jax.distributed.shutdown()


# ---- local launcher ----------------------------------------------------------------------------------


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_local(
    argv: Sequence[str],
    n: int,
    *,
    cpus: Sequence[Sequence[int]] | None = None,
    env: dict | None = None,
    grace: float = 60.0,
    port: int | None = None,
) -> list[int]:
    """Run `python -m latentjax ARGV --coordinator 127.0.0.1:PORT --num-processes n --process-id i` for
    i < n and wait; returns their exit codes. cpus[i]: CPU ids process i is pinned to (None = any).
    When one fails, the others get `grace` seconds to fail on their own (a dead peer's message),
    then are terminated."""
    if n < 1:
        raise ValueError(f"-n must be >= 1, got {n}")
    if not argv:
        raise ValueError("no command to launch (use: latentjax launch -n 2 -- sample --n 1000 --out DIR)")
    if argv[0] == "launch":
        raise ValueError("launch cannot launch itself")
    if cpus is not None and len(cpus) != n:
        raise ValueError(f"cpus lists {len(cpus)} sets for {n} processes")
    port = free_port() if port is None else port
    procs = []
    for i in range(n):
        cmd = [sys.executable, "-m", "latentjax", *argv]
        cmd += ["--coordinator", f"127.0.0.1:{port}", "--num-processes", str(n), "--process-id", str(i)]
        p = subprocess.Popen(cmd, env={**os.environ, **(env or {})})
        if cpus is not None:
            os.sched_setaffinity(p.pid, cpus[i])
        procs.append(p)
    failed_at = None
    try:
        while any(p.poll() is None for p in procs):
            if failed_at is None and any(p.returncode not in (None, 0) for p in procs):
                failed_at = time.monotonic()
            if failed_at is not None and time.monotonic() - failed_at > grace:
                for p in procs:
                    if p.poll() is None:
                        p.terminate()
            time.sleep(0.05)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
    return [p.returncode for p in procs]
