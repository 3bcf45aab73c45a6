"""Data parallelism: the batch axis split over devices, parameters replicated; rows over processes.

On one device this is a plain call. With 8 GPUs (or `XLA_FLAGS=--xla_force_host_platform_device_count=8`
on CPU) the same call runs one eighth of the batch on each; batches that do not divide evenly
are padded and the padding is dropped from the result.

With several processes (`latentjax.distributed`) the global mesh spans every process's devices;
`process_block` / `process_items` say which rows or work items this process owns.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def batch_mesh() -> Mesh:
    return Mesh(np.array(jax.local_devices()), ("batch",))


def global_mesh(axis: str = "batch") -> Mesh:
    """A 1-d mesh over every process's devices (`jax.devices()`), ordered by (process, device id) so
    that a row-sharded axis gives each process one contiguous block. One process: the local mesh."""
    devices = sorted(jax.devices(), key=lambda d: (d.process_index, d.id))
    return Mesh(np.array(devices), (axis,))


def process_block(n: int, process: int | None = None, count: int | None = None) -> tuple[int, int]:
    """Rows [start, stop) of n that `process` (default: this one) of `count` owns: contiguous blocks,
    sizes differing by at most one (the first n % count processes take one more)."""
    process = jax.process_index() if process is None else int(process)
    count = jax.process_count() if count is None else int(count)
    if not 0 <= process < count or n < 0:
        raise ValueError(f"need 0 <= process < count and n >= 0, got process {process}, count {count}, n {n}")
    q, r = divmod(int(n), count)
    start = process * q + min(process, r)
    return start, start + q + (process < r)


def process_items(items, process: int | None = None, count: int | None = None) -> list:
    """The items (shards, attributes, batches) `process` of `count` owns: every count-th one from its
    own index, so the remaining work of a resumed run stays balanced."""
    process = jax.process_index() if process is None else int(process)
    count = jax.process_count() if count is None else int(count)
    if not 0 <= process < count:
        raise ValueError(f"need 0 <= process < count, got process {process}, count {count}")
    return list(items)[process::count]


def replicate(tree):
    """Place a pytree on every local device (no-op with one device)."""
    if jax.local_device_count() == 1:
        return tree
    return jax.device_put(tree, NamedSharding(batch_mesh(), PartitionSpec()))


def _pad_rows(a: jax.Array, pad: int) -> jax.Array:
    return a if pad == 0 else jnp.concatenate([a, jnp.repeat(a[-1:], pad, axis=0)], axis=0)


def run_sharded(fn, variables, batch: jax.Array, extra: list | None = None):
    """fn(variables, batch[, extra]) with batch (and batch-sized arrays of `extra`) split over devices.

    batch: [N, ...]; entries of `extra` whose leading axis is N are split the same way, the
    others (None, or a leading axis of 1) are replicated. Returns fn's output for the N rows.
    """
    n_dev = jax.local_device_count()
    args = (variables, batch) if extra is None else (variables, batch, extra)
    if n_dev == 1:
        return fn(*args)
    n = batch.shape[0]
    pad = (-n) % n_dev
    mesh = batch_mesh()
    split, rep = NamedSharding(mesh, PartitionSpec("batch")), NamedSharding(mesh, PartitionSpec())
    batch = jax.device_put(_pad_rows(batch, pad), split)
    if extra is not None:
        extra = [
            e
            if e is None
            else jax.device_put(_pad_rows(e, pad), split)
            if e.shape[0] == n and n > 1
            else jax.device_put(e, rep)
            for e in extra
        ]
    out = fn(variables, batch) if extra is None else fn(variables, batch, extra)
    return out[:n]
