"""A restricted unpickler: only allow-listed globals resolve, to inert stand-ins.

A pickle is a program; `pickle.load` will call any importable function it names. Here
`find_class` returns only callables from an explicit table, none of which imports or
executes anything from the file (NVIDIA's embedded `build_module_src` / `module_src` strings
stay plain strings). Anything else raises `UnsafePickleError` before it can run.
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from collections.abc import Callable, Mapping

import numpy as np

from latentjax.errors import LoadError, UnsafePickleError


class Record:
    """Inert stand-in for a pickled object: keeps constructor args and state, runs no code."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs, self.state = args, kwargs, None

    def __setstate__(self, state):
        self.state = state


class NetworkRecord(Record):
    """`dnnlib.tflib.network.Network` state: dict(version, name, static_kwargs, components,
    build_module_src, build_func_name, variables=[(name, ndarray), ...])."""


class EasyDict(dict):
    """`dnnlib.util.EasyDict` as a plain dict (attribute access is never needed here)."""


def _np_reconstruct(subtype, shape, dtype):
    if subtype is not np.ndarray:
        raise UnsafePickleError(f"numpy array of subtype {subtype!r} is not allowed")
    return np.ndarray.__new__(np.ndarray, shape, dtype)


def _np_scalar(dtype, data=None):
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise UnsafePickleError("object-dtype numpy scalars are not allowed")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _np_dtype(name, align=False, copy=False):
    dt = np.dtype(name)
    if dt.hasobject:
        raise UnsafePickleError("object dtype arrays are not allowed")
    return dt


NUMPY_GLOBALS: dict[tuple[str, str], Callable] = {}
for _mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
    NUMPY_GLOBALS[(_mod, "_reconstruct")] = _np_reconstruct
    NUMPY_GLOBALS[(_mod, "scalar")] = _np_scalar
NUMPY_GLOBALS[("numpy", "ndarray")] = np.ndarray
NUMPY_GLOBALS[("numpy", "dtype")] = _np_dtype

BUILTIN_GLOBALS: dict[tuple[str, str], Callable] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set,
    ("__builtin__", "set"): set,
}


class RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, allowed: Mapping[tuple[str, str], Callable], persistent_load=None):
        super().__init__(file)
        self._allowed = allowed
        self._persistent_load = persistent_load

    def find_class(self, module: str, name: str):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"pickle references {module}.{name}, which is not on the allow-list; refusing to "
                "load it (a StyleGAN pickle needs only dnnlib/torch_utils/numpy/torch storage types)"
            ) from None

    def persistent_load(self, pid):
        if self._persistent_load is None:
            raise UnsafePickleError(f"unexpected persistent id {pid!r:.80} in pickle")
        return self._persistent_load(pid)


def restricted_loads(data: bytes, allowed: Mapping[tuple[str, str], Callable], what: str, persistent_load=None):
    """Unpickle `data` with only `allowed` globals; any failure becomes a LoadError naming `what`."""
    try:
        return RestrictedUnpickler(io.BytesIO(data), allowed, persistent_load).load()
    except LoadError:
        raise
    except (pickle.UnpicklingError, EOFError) as e:
        raise LoadError(f"{what}: corrupt or truncated pickle ({e})") from None
    except Exception as e:  # malformed opcode arguments surface as assorted builtin errors
        raise LoadError(f"{what}: cannot unpickle ({type(e).__name__}: {e})") from None
