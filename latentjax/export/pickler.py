"""A minimal pickle writer for files other programs unpickle: only data and named globals.

Python's own pickler can only reference a global (`torch._utils._rebuild_tensor_v2`,
`dnnlib.tflib.network.Network`) by importing it, and we have neither torch nor NVIDIA's code.
Here a global is just a (module, name) pair written as a GLOBAL opcode, so the file's
contents are exactly what the caller built: plain data, `Global`s, `Call`s of globals on
plain data (REDUCE / NEWOBJ, optionally BUILD) and persistent ids. Nothing is memoised, so
shared objects are written once per use (fine for the trees written here).

Opcodes follow the pickle protocol definitions (Lib/pickletools.py); protocol 2 is what
torch.save writes into data.pkl, protocol 4 what NVIDIA's TF-era pickles use.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO


@dataclass(frozen=True)
class Global:
    """A module-level name, written as `GLOBAL module\\nname\\n` (never imported here)."""

    module: str
    name: str


@dataclass(frozen=True)
class Call:
    """`func(*args)` at unpickling time (REDUCE), or `func.__new__(func, *args)` with
    `new=True` (NEWOBJ, how classes are pickled), then `__setstate__(state)` / BUILD if given,
    then dict items (SETITEMS), for dict subclasses such as OrderedDict."""

    func: Global
    args: tuple = ()
    state: object = None
    items: list = field(default_factory=list)
    new: bool = False


@dataclass(frozen=True)
class PersistentId:
    """BINPERSID: the unpickler's persistent_load(value) supplies the object (torch storages)."""

    value: object


_BATCH = 1000  # items per MARK ... APPENDS/SETITEMS, as Python's pickler


class _Writer:
    def __init__(self, f: BinaryIO, protocol: int):
        if protocol not in (2, 3, 4):
            raise ValueError(f"protocol must be 2, 3 or 4, got {protocol}")
        self.f, self.protocol = f, protocol

    def op(self, b: bytes) -> None:
        self.f.write(b)

    def save(self, obj) -> None:  # noqa: C901 - one branch per pickled type
        w = self.op
        if obj is None:
            w(b"N")
        elif obj is True or obj is False:
            w(b"\x88" if obj else b"\x89")
        elif isinstance(obj, int):
            if 0 <= obj < 256:
                w(b"K" + bytes([obj]))
            elif 0 <= obj < 65536:
                w(b"M" + struct.pack("<H", obj))
            elif -(2**31) <= obj < 2**31:
                w(b"J" + struct.pack("<i", obj))
            else:
                n = (obj.bit_length() + 8) // 8  # two's complement, room for the sign bit
                w(b"\x8a" + bytes([n]) + obj.to_bytes(n, "little", signed=True))
        elif isinstance(obj, float):
            w(b"G" + struct.pack(">d", obj))
        elif isinstance(obj, str):
            b = obj.encode("utf-8", "surrogatepass")
            if self.protocol >= 4 and len(b) < 256:
                w(b"\x8c" + bytes([len(b)]) + b)
            else:
                w(b"X" + struct.pack("<I", len(b)) + b)
        elif isinstance(obj, bytes | bytearray | memoryview):
            b = bytes(obj)
            if self.protocol < 3:
                raise TypeError("bytes need pickle protocol 3 or higher")
            if len(b) < 256:
                w(b"C" + bytes([len(b)]) + b)
            elif len(b) < 2**32:
                w(b"B" + struct.pack("<I", len(b)) + b)
            else:
                w(b"\x8e" + struct.pack("<Q", len(b)) + b)
        elif isinstance(obj, tuple):
            if not obj:
                w(b")")
            elif len(obj) <= 3:
                for x in obj:
                    self.save(x)
                w(b"\x85\x86\x87"[len(obj) - 1 : len(obj)])
            else:
                w(b"(")
                for x in obj:
                    self.save(x)
                w(b"t")
        elif isinstance(obj, list):
            w(b"]")
            for i in range(0, len(obj), _BATCH):
                w(b"(")
                for x in obj[i : i + _BATCH]:
                    self.save(x)
                w(b"e")
        elif isinstance(obj, dict):
            w(b"}")
            self._setitems(list(obj.items()))
        elif isinstance(obj, Global):
            w(b"c" + f"{obj.module}\n{obj.name}\n".encode())
        elif isinstance(obj, Call):
            self.save(obj.func)
            self.save(tuple(obj.args))
            w(b"\x81" if obj.new else b"R")
            if obj.state is not None:
                self.save(obj.state)
                w(b"b")
            self._setitems(list(obj.items))
        elif isinstance(obj, PersistentId):
            self.save(obj.value)
            w(b"Q")
        else:
            raise TypeError(f"cannot pickle {type(obj).__name__}: only plain data, Global, Call, PersistentId")

    def _setitems(self, items: list) -> None:
        for i in range(0, len(items), _BATCH):
            self.op(b"(")
            for k, v in items[i : i + _BATCH]:
                self.save(k)
                self.save(v)
            self.op(b"u")


def dump(obj, f: BinaryIO, protocol: int = 2) -> None:
    """Write `obj` (plain data / Global / Call / PersistentId tree) as one pickle to `f`."""
    w = _Writer(f, protocol)
    w.op(b"\x80" + bytes([protocol]))
    w.save(obj)
    w.op(b".")


def dumps(obj, protocol: int = 2) -> bytes:
    import io

    buf = io.BytesIO()
    dump(obj, buf, protocol)
    return buf.getvalue()
