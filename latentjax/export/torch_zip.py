"""Write a `torch.save` file (zip format, torch >= 1.6) without torch.

Layout, as torch writes it: a zip archive with stored (uncompressed) entries
`<archive>/data.pkl` (the object, pickle protocol 2; every tensor is
`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict())`
with the storage a persistent id `('storage', torch.<T>Storage, key, 'cpu', numel)`),
`<archive>/byteorder` ("little"), `<archive>/data/<key>` (raw little-endian elements, aligned
to 64 bytes in the file as torch aligns them, so `torch.load(mmap=True)` works) and
`<archive>/version` ("3"). Only globals `torch.load(weights_only=True)` accepts are written.
"""

from __future__ import annotations

import dataclasses
import io
import struct
import zipfile
from typing import BinaryIO

import numpy as np

from latentjax.convert.torch_storage import STORAGE_DTYPES
from latentjax.export.pickler import Call, Global, PersistentId, dump

_STORAGE_OF = {np.dtype(v): k for k, v in STORAGE_DTYPES.items() if v != "bfloat16"}
_REBUILD = Global("torch._utils", "_rebuild_tensor_v2")
ORDERED_DICT = Global("collections", "OrderedDict")
ALIGN = 64  # torch's storage alignment in the archive
FORMAT_VERSION = b"3\n"  # what torch.save writes to <archive>/version


def ordered_dict(d: dict) -> Call:
    """An OrderedDict (the type of every `state_dict()`), pickled as torch does."""
    return Call(ORDERED_DICT, items=list(d.items()))


def _tensors_to_storages(obj, storages: list[np.ndarray]):
    """Replace every ndarray by a tensor record over a new storage (appended to `storages`)."""
    if isinstance(obj, np.ndarray):
        a = np.asarray(obj, order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
        if a.dtype not in _STORAGE_OF:
            raise TypeError(f"no torch storage type for dtype {a.dtype}")
        key = str(len(storages))
        storages.append(a.astype(a.dtype.newbyteorder("<"), copy=False))
        pid = PersistentId(("storage", Global("torch", _STORAGE_OF[a.dtype]), key, "cpu", int(a.size)))
        stride = tuple(int(s) // a.itemsize for s in a.strides) if a.size else (0,) * a.ndim
        return Call(_REBUILD, (pid, 0, tuple(int(s) for s in a.shape), stride, False, Call(ORDERED_DICT)))
    if isinstance(obj, dict):
        return {k: _tensors_to_storages(v, storages) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_tensors_to_storages(v, storages) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_tensors_to_storages(v, storages) for v in obj)
    if isinstance(obj, Call):
        return dataclasses.replace(
            obj,
            args=_tensors_to_storages(obj.args, storages),
            items=[(k, _tensors_to_storages(v, storages)) for k, v in obj.items],
        )
    if isinstance(obj, np.generic):
        raise TypeError(f"numpy scalar {obj!r}: pass a Python number or a 0-d array")
    return obj


def _add(zf: zipfile.ZipFile, f: BinaryIO, name: str, data: bytes, align: int = 0) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    if align:  # pad the local header's extra field so the data starts on an `align` boundary
        start = f.tell() + 30 + len(name.encode()) + 4
        pad = -start % align
        info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
    zf.writestr(info, data)


def write_torch_zip(f: BinaryIO, obj, archive: str = "archive") -> None:
    """Write `obj` (dicts, lists, tuples, numbers, strings, None, `ordered_dict`s and numpy
    arrays as tensors) to the seekable binary file `f` as `torch.save(obj, f)` would."""
    storages: list[np.ndarray] = []
    tree = _tensors_to_storages(obj, storages)
    pkl = io.BytesIO()
    dump(tree, pkl, protocol=2)
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        _add(zf, f, f"{archive}/data.pkl", pkl.getvalue())
        _add(zf, f, f"{archive}/byteorder", b"little")
        for key, a in enumerate(storages):
            _add(zf, f, f"{archive}/data/{key}", a.tobytes(), ALIGN)
        _add(zf, f, f"{archive}/version", FORMAT_VERSION)
