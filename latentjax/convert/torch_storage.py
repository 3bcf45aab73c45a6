"""`torch.save` files and tensor storages decoded without torch, in both serialisation formats.

- Zip format (torch >= 1.6 default): a zip archive `<name>/data.pkl` (the object, pickle
  protocol 2), `<name>/data/<key>` (each storage's raw little-endian elements),
  `<name>/byteorder`, `<name>/version`. A storage is the persistent id
  `('storage', torch.<T>Storage, key, location, numel)`.
- Legacy format (before 1.6; also how NVIDIA's snapshots pickle every storage through
  `torch.storage._load_from_bytes`): consecutive pickles of the magic number, the protocol
  version and sys info, then the object (same persistent ids, plus an optional pre-1.0 view
  tuple `(view key, offset, size)`), then the list of storage keys; after that, per key, an
  int64 element count and the raw data. The data follows the object, so tensors are resolved
  in a second pass.

Tensors are `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` and become
numpy arrays; torch itself is never imported and nothing else from torch is resolved.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from latentjax.convert.safe_pickle import Record, RestrictedUnpickler
from latentjax.errors import LoadError, UnsafePickleError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
# the first pickle of a legacy file: PROTO 2, LONG1 of 10 bytes, the magic number, STOP
LEGACY_HEADER = b"\x80\x02\x8a\x0a" + LEGACY_MAGIC.to_bytes(10, "little") + b"."
ZIP_HEADER = b"PK\x03\x04"

STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
    "BFloat16Storage": "bfloat16",
}


class StorageType:
    """Stand-in for `torch.<T>Storage` (only its name and element type are ever used)."""

    def __init__(self, name: str):
        self.name = name
        dt = STORAGE_DTYPES[name]
        self.itemsize = 2 if dt == "bfloat16" else np.dtype(dt).itemsize

    def decode(self, raw: bytes) -> np.ndarray:
        """Raw little-endian bytes -> 1-D array (bfloat16 widened exactly to float32)."""
        dt = STORAGE_DTYPES[self.name]
        if dt == "bfloat16":
            return (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        return np.frombuffer(raw, np.dtype(dt).newbyteorder("<"))


@dataclass
class _PendingStorage:
    """A legacy-format storage whose data comes after the object pickle: elements [start, start+size)."""

    key: str
    type: StorageType
    numel: int
    start: int = 0
    size: int | None = None


@dataclass
class _PendingTensor:
    storage: _PendingStorage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _tensor_from(storage: np.ndarray, offset: int, size: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    if 0 in size:
        return np.zeros(size, storage.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if offset < 0 or last >= storage.size:
        raise LoadError(f"tensor of size {size} reads past its storage of {storage.size} elements")
    view = np.lib.stride_tricks.as_strided(storage[offset:], size, tuple(s * storage.itemsize for s in stride))
    return np.array(view)


def rebuild_tensor(storage, offset, size, stride, *_ignored):
    """`torch._utils._rebuild_tensor_v2`: a numpy array (or a pending one, legacy format)."""
    try:
        offset = int(offset)
        size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    except (TypeError, ValueError):
        raise LoadError("malformed tensor record (offset/size/stride are not integers)") from None
    if len(size) != len(stride) or any(s < 0 for s in size + stride):
        raise LoadError(f"bad tensor geometry size={size} stride={stride}")
    if isinstance(storage, _PendingStorage):
        return _PendingTensor(storage, offset, size, stride)
    if not isinstance(storage, np.ndarray):
        raise LoadError("tensor without a decoded storage")
    return _tensor_from(storage, offset, size, stride)


def rebuild_parameter(data, *_ignored):
    """`torch._utils._rebuild_parameter[_with_state]`: an nn.Parameter is just its tensor here."""
    return data


TENSOR_GLOBALS: dict[tuple[str, str], Callable] = {
    ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): rebuild_parameter,
    ("collections", "OrderedDict"): OrderedDict,  # state_dicts and backward-hook slots
    **{("torch", name): StorageType(name) for name in STORAGE_DTYPES},
}


def _parse_storage_pid(pid) -> tuple[StorageType, str, int, tuple | None]:
    """('storage', type, key, location, numel[, view]) -> (type, key, numel, view)."""
    if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage" and isinstance(pid[1], StorageType)):
        raise UnsafePickleError(f"unexpected persistent id {pid!r:.80} (only tensor storages are allowed)")
    view = pid[5] if len(pid) == 6 else None
    try:
        numel = int(pid[4])
        if view is not None:
            view = (str(view[0]), int(view[1]), int(view[2]))
    except (TypeError, ValueError, IndexError):
        raise LoadError(f"malformed storage record {pid!r:.80}") from None
    if numel < 0:
        raise LoadError(f"storage with negative size {numel}")
    return pid[1], str(pid[2]), numel, view


def _resolve(obj, arrays: dict[str, np.ndarray], seen: set[int]):
    """Replace pending storages/tensors (legacy format) by arrays, in containers and Records."""
    if isinstance(obj, _PendingStorage):
        root = arrays[obj.key]
        return root if obj.size is None else root[obj.start : obj.start + obj.size]
    if isinstance(obj, _PendingTensor):
        return _tensor_from(_resolve(obj.storage, arrays, seen), obj.offset, obj.size, obj.stride)
    if isinstance(obj, tuple):
        return tuple(_resolve(x, arrays, seen) for x in obj)
    if id(obj) in seen:  # shared or cyclic containers are resolved once, in place
        return obj
    if isinstance(obj, dict):
        seen.add(id(obj))
        for k in list(obj):
            obj[k] = _resolve(obj[k], arrays, seen)
    elif isinstance(obj, list):
        seen.add(id(obj))
        obj[:] = [_resolve(x, arrays, seen) for x in obj]
    elif isinstance(obj, Record):
        seen.add(id(obj))
        obj.__dict__.update({k: _resolve(v, arrays, seen) for k, v in vars(obj).items()})
    return obj


def load_legacy(data: bytes, allowed: Mapping[tuple[str, str], Callable], source: str):
    """A legacy-format `torch.save` file -> its object, tensors as numpy arrays."""
    f = io.BytesIO(data)
    globs = {**allowed, **TENSOR_GLOBALS}
    storages: dict[str, _PendingStorage] = {}

    def persistent_load(pid):
        stype, key, numel, view = _parse_storage_pid(pid)
        root = storages.setdefault(key, _PendingStorage(key, stype, numel))
        if root.type is not stype or root.numel != numel:
            raise LoadError(f"{source}: storage {key} is declared twice with different types or sizes")
        if view is None:
            return root
        _, start, size = view
        if start < 0 or size < 0 or start + size > numel:
            raise LoadError(f"{source}: storage view {view} lies outside storage {key} of {numel} elements")
        return _PendingStorage(key, stype, numel, start, size)

    def unpickle(pl=None):
        return RestrictedUnpickler(f, globs, pl).load()

    try:
        if unpickle() != LEGACY_MAGIC:
            raise LoadError(f"{source}: not a torch.save file (bad magic number)")
        unpickle()  # protocol version (1001)
        info = unpickle()
        if not isinstance(info, dict) or not info.get("little_endian", True):
            raise LoadError(f"{source}: big-endian torch files are not supported")
        obj = unpickle(persistent_load)
        keys = unpickle()
        if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(storages):
            raise LoadError(f"{source}: storage key list does not match the storages the object uses")
        arrays = {}
        for key in map(str, keys):
            st = storages[key]
            head = f.read(8)
            if len(head) != 8:
                raise LoadError(f"{source}: truncated before the data of storage {key}")
            (count,) = struct.unpack("<q", head)
            raw = f.read(count * st.type.itemsize) if count == st.numel else b""
            if count != st.numel or len(raw) != st.numel * st.type.itemsize:
                raise LoadError(
                    f"{source}: storage {key} is truncated or corrupt "
                    f"({len(raw)} of {st.numel * st.type.itemsize} bytes, count {count})"
                )
            arrays[key] = st.type.decode(raw)
        return _resolve(obj, arrays, set())
    except UnsafePickleError as e:
        raise UnsafePickleError(f"{source}: {e}") from None
    except LoadError:
        raise
    except RecursionError:
        raise LoadError(f"{source}: object nesting too deep") from None
    except Exception as e:  # truncated pickles and malformed opcode arguments
        raise LoadError(f"{source}: corrupt or truncated torch file ({type(e).__name__}: {e})") from None


def load_zip(data: bytes, allowed: Mapping[tuple[str, str], Callable], source: str):
    """A zip-format `torch.save` file -> its object, tensors as numpy arrays."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise LoadError(f"{source}: a zip archive, but corrupt or truncated ({e})") from None
    pkls = [n for n in names if n.count("/") == 1 and n.endswith("/data.pkl")]
    if len(pkls) != 1:
        raise LoadError(f"{source}: a zip archive without one <name>/data.pkl: not a torch.save file")
    prefix = pkls[0][: -len("data.pkl")]
    cache: dict[str, np.ndarray] = {}

    def read(name: str) -> bytes:
        try:
            return zf.read(name)
        except KeyError:
            raise LoadError(f"{source}: archive lacks {name}") from None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:  # CRC errors, truncation
            raise LoadError(f"{source}: cannot read {name} from the archive ({e})") from None

    if prefix + "byteorder" in names and read(prefix + "byteorder").strip() != b"little":
        raise LoadError(f"{source}: big-endian torch files are not supported")

    def persistent_load(pid):
        stype, key, numel, view = _parse_storage_pid(pid)
        if view is not None:
            raise LoadError(f"{source}: storage views do not occur in zip-format files")
        if key not in cache:
            raw = read(f"{prefix}data/{key}")
            if len(raw) != numel * stype.itemsize:
                raise LoadError(f"{source}: storage {key} holds {len(raw)} bytes, expected {numel * stype.itemsize}")
            cache[key] = stype.decode(raw)
        return cache[key]

    pkl = read(pkls[0])
    try:
        return RestrictedUnpickler(io.BytesIO(pkl), {**allowed, **TENSOR_GLOBALS}, persistent_load).load()
    except UnsafePickleError as e:
        raise UnsafePickleError(f"{source}: {e}") from None
    except LoadError:
        raise
    except RecursionError:
        raise LoadError(f"{source}: object nesting too deep") from None
    except Exception as e:
        raise LoadError(f"{source}: corrupt data.pkl ({type(e).__name__}: {e})") from None


def is_torch_save(data: bytes) -> bool:
    """Whether `data` looks like a `torch.save` file (zip archive or legacy magic header)."""
    return data[:4] == ZIP_HEADER or data.startswith(LEGACY_HEADER)


def load_torch_file(data: bytes, allowed: Mapping[tuple[str, str], Callable], source: str):
    """Either format of `torch.save` -> its object (tensors as arrays). `allowed` adds globals
    beyond tensors, storages and OrderedDict; everything else raises UnsafePickleError."""
    if data[:4] == ZIP_HEADER:
        return load_zip(data, allowed, source)
    if data.startswith(LEGACY_HEADER):
        return load_legacy(data, allowed, source)
    raise LoadError(f"{source}: not a torch.save file")
