"""Data parallelism: the batch axis split over devices, parameters replicated; rows over processes.
The one home of batch padding and device placement (generation, projection, sampling, separability).

On one device this is a plain call. With 8 GPUs (or `XLA_FLAGS=--xla_force_host_platform_device_count=8`
on CPU) the same call runs one eighth of the batch on each; batches that do not divide evenly
are padded and the padding is dropped from the result.

With several processes (`latentjax.distributed`) the global mesh spans every process's devices;
`process_block` / `process_items` say which rows or work items this process owns.
"""

from __future__ import annotations

from collections.abc import Iterator

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


def device_padding(n: int) -> int:
    """Rows to add to a batch of n so that it splits evenly over the local devices."""
    return (-n) % jax.local_device_count()


def pad_rows(a, pad: int, axis: int = 0, value=None):
    """Add `pad` entries along `axis` of a (numpy or jax array): copies of the last entry (value None:
    real data, so padded rows compute nothing unusual) or a constant `value` (e.g. a mask of 0)."""
    if pad == 0:
        return a
    xp = np if isinstance(a, np.ndarray) else jnp
    fill = xp.repeat(xp.take(a, xp.asarray([a.shape[axis] - 1]), axis=axis), pad, axis=axis)
    if value is not None:
        fill = xp.full_like(fill, value)
    return xp.concatenate([a, fill], axis=axis)


def split_rows(tree, n: int, axis: int = 0):
    """Place a pytree on the local devices: leaves whose `axis` has length n are split along it, the
    others replicated (no-op on one device). n must divide by the device count (see `device_padding`)."""
    if jax.local_device_count() == 1:
        return tree
    mesh = batch_mesh()
    rep = NamedSharding(mesh, PartitionSpec())

    def place(a):
        if a is None:
            return None
        if a.ndim > axis and a.shape[axis] == n:
            return jax.device_put(a, NamedSharding(mesh, PartitionSpec(*([None] * axis), "batch")))
        return jax.device_put(a, rep)

    return jax.tree_util.tree_map(place, tree, is_leaf=lambda a: a is None)


def run_sharded(fn, variables, batch: jax.Array, extra: list | None = None):
    """fn(variables, batch[, extra]) with batch (and batch-sized arrays of `extra`) split over devices.

    batch: [N, ...]; entries of `extra` whose leading axis is N are split the same way, the
    others (None, or a leading axis of 1) are replicated. Returns fn's output for the N rows.
    """
    if jax.local_device_count() == 1:
        return fn(variables, batch) if extra is None else fn(variables, batch, extra)
    n = batch.shape[0]
    pad = device_padding(n)
    rows = n + pad if n > 1 else -1  # a batch of one: [1, ...] extras are shared, not split
    batch = split_rows(pad_rows(batch, pad), n + pad)
    if extra is not None:
        extra = split_rows([e if e is None or e.shape[0] != n or n == 1 else pad_rows(e, pad) for e in extra], rows)
    out = fn(variables, batch) if extra is None else fn(variables, batch, extra)
    return out[:n]


def map_batches(fn, x, batch: int) -> np.ndarray:
    """fn over x: [N, ...] (N >= 1) in chunks of `batch` rows, each padded to `batch` (`iter_padded`:
    one compiled program however N falls), the real rows' results concatenated as numpy [N, ...]."""
    if len(x) == 0:
        raise ValueError("map_batches needs at least one row")
    return np.concatenate([np.asarray(fn(chunk))[:n] for n, chunk in iter_padded(x, batch)])


def iter_padded(x, batch: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (rows, chunk) for consecutive chunks of x: [N, ...], each chunk padded to `batch` rows with
    copies of its last row, so one compiled program serves every chunk; keep `chunk`'s result [:rows]."""
    for start in range(0, len(x), batch):
        chunk = x[start : start + batch]
        yield len(chunk), pad_rows(chunk, batch - len(chunk))
