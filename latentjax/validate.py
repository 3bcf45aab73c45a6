"""Checks for what users hand the public API: shapes, dtypes, finite values, value ranges, labels,
directions against a model. Pure functions that return the checked value or raise `InputError`
with one line naming the argument, what was expected and what was given.

They run at the API edge (`Generator.mapping` / `synthesis`, `project`, `edit`, `fit_directions`,
loaders), never inside jit: under a tracer (an edge function called from the user's own jit /
vmap) only static facts (shape, dtype) are checked, values cannot be seen there.

Shape specs are tuples of ints (exact) and strings (any size, named in the message):
`("N", 18, 512)` reads "[N, 18, 512]".
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import jax
import numpy as np

from latentjax.errors import InputError

Spec = tuple[int | str, ...]


def _fmt_spec(spec: Spec) -> str:
    return "[" + ", ".join(str(s) for s in spec) + "]"


def _fmt_shape(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _dtype_of(x) -> np.dtype:
    """dtype without copying jax arrays to the host (numpy's rules for lists / scalars)."""
    if isinstance(x, (jax.Array, np.ndarray, np.generic)):
        return np.dtype(x.dtype)
    try:
        return np.asarray(x).dtype
    except (ValueError, TypeError):  # ragged nested lists
        return np.dtype(object)


def _check_shape(shape: tuple[int, ...], spec: Spec, name: str, what: str, dtype) -> None:
    ok = len(shape) == len(spec) and all(isinstance(s, str) or s == d for s, d in zip(spec, shape))
    if not ok:
        raise InputError(f"{name}: expected {what} {_fmt_spec(spec)}, got {dtype} {_fmt_shape(shape)}")


def _interval(lo, hi) -> str:
    return f"[{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"


def _value_range(a) -> tuple[float, float]:
    return float(a.min()), float(a.max())


def real_array(
    x,
    name: str,
    spec: Spec | None = None,
    *,
    finite: bool = True,
    lo: float | None = None,
    hi: float | None = None,
    hint: str = "",
    min_rows: int = 0,
    expect: str | None = None,
):
    """x as float32 (a jax array stays a jax array, anything else becomes numpy).

    Refused: complex (its imaginary part would be dropped), bool, strings / objects, a shape that
    does not match `spec`, fewer than `min_rows` rows, NaN / inf (`finite`), values outside
    [lo, hi]. `expect` replaces "[lo, hi]" in the message (the nominal range where lo / hi have
    slack); `hint` is appended to it (e.g. how to rescale pixels).
    """
    dt = _dtype_of(x)
    if dt.kind == "c":
        raise InputError(f"{name}: expected real numbers, got {dt} (complex: the imaginary part would be dropped)")
    if dt.kind not in "fiu":
        raise InputError(f"{name}: expected real numbers, got dtype {dt}")
    shape = tuple(np.shape(x))
    what = "float array"
    if spec is not None:
        _check_shape(shape, spec, name, what, dt)
    if min_rows and (not shape or shape[0] < min_rows):
        raise InputError(f"{name}: expected at least {min_rows} row(s), got shape {_fmt_shape(shape)}")
    if isinstance(x, jax.Array):
        a = x.astype(np.float32) if x.dtype != np.float32 else x
    else:
        a = np.asarray(x, np.float32)
    if _is_traced(a) or a.size == 0:
        return a
    if finite or lo is not None or hi is not None:
        v = np.asarray(a) if not isinstance(a, np.ndarray) else a
        if finite and not np.isfinite(v).all():
            bad = np.argwhere(~np.isfinite(v))
            kinds = sorted({"NaN" if np.isnan(v[tuple(i)]) else "inf" for i in bad[:64]})
            raise InputError(
                f"{name}: expected finite values, got {' and '.join(kinds)} at {len(bad)} "
                f"position(s), first {tuple(int(i) for i in bad[0])}"
            )
        if (lo is not None or hi is not None) and v.size:
            vmin, vmax = _value_range(v)
            if (lo is not None and vmin < lo) or (hi is not None and vmax > hi):
                rng = expect or _interval(lo, hi)
                raise InputError(f"{name}: expected values in {rng}, got range [{vmin:g}, {vmax:g}]{hint}")
    return a


def scalar(x, name: str, *, lo: float | None = None, hi: float | None = None) -> float:
    """A finite real number in [lo, hi] as a Python float (psi, strengths, learning rates)."""
    dt = _dtype_of(x)
    if isinstance(x, bool) or dt.kind == "b" or dt.kind not in "fiu" or np.ndim(x) != 0:
        raise InputError(f"{name}: expected a real number, got {type(x).__name__} {x!r}"[:200])
    v = float(x)
    if not math.isfinite(v):
        raise InputError(f"{name}: expected a finite number, got {v}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise InputError(f"{name}: expected a number in {_interval(lo, hi)}, got {v:g}")
    return v


def integer(x, name: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """An int in [lo, hi] (a float with an integral value is not accepted: it hides a bug)."""
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise InputError(f"{name}: expected an integer, got {type(x).__name__} {x!r}"[:200])
    v = int(x)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise InputError(f"{name}: expected an integer in {_interval(lo, hi)}, got {v}")
    return v


# Images with values beyond +-IMAGE_LIMIT are not [-1, 1] images: generators overshoot (a few
# units for an untrained one, whose raw outputs tests use as targets), [0, 255] pixels by far.
IMAGE_LIMIT = 8.0


def images(x, name: str, spec: Spec = ("N", "H", "W", "C"), min_rows: int = 1):
    """Float images in [-1, 1] (NHWC) -> float32; uint8 and [0, 255] floats are refused with the fix."""
    dt = _dtype_of(x)
    if dt.kind in "iu":
        raise InputError(f"{name}: expected float pixels in [-1, 1], got {dt} (use x / 127.5 - 1)")
    return real_array(
        x,
        name,
        spec,
        lo=-IMAGE_LIMIT,
        hi=IMAGE_LIMIT,
        expect="[-1, 1]",
        hint=" ([0, 255] pixels? use x / 127.5 - 1)",
        min_rows=min_rows,
    )


def labels(y, name: str, spec: Spec | None = None) -> np.ndarray:
    """Binary labels (bool, or numbers that are all 0 / 1) -> bool numpy.

    NaN would count as True, and probabilities are not labels (all > 0 is all True): both are
    refused, the message says to threshold (probs > 0.5).
    """
    dt = _dtype_of(y)
    if dt.kind not in "biuf":
        raise InputError(f"{name}: expected bool or 0/1 labels, got dtype {dt}")
    a = np.asarray(y)
    if spec is not None:
        _check_shape(a.shape, spec, name, "labels", dt)
    if dt.kind == "b":
        return a
    if dt.kind == "f" and not np.isfinite(a).all():
        raise InputError(
            f"{name}: expected bool or 0/1 labels, got NaN or inf ({int((~np.isfinite(a)).sum())} entries)"
        )
    binary = (a == 0) | (a == 1)
    if not binary.all():
        odd = a[~binary]
        frac = " (probabilities? threshold them: probs > 0.5)" if ((odd > 0) & (odd < 1)).all() else ""
        raise InputError(
            f"{name}: expected bool or 0/1 labels, got {odd.size} other value(s), e.g. {odd.flat[0]:g}{frac}"
        )
    return a.astype(bool)


def probabilities(p, name: str, spec: Spec | None = None) -> np.ndarray:
    """Probabilities in [0, 1] (or bool labels) -> float32 numpy."""
    if _dtype_of(p).kind == "b":
        p = np.asarray(p, np.float32)
    return np.asarray(real_array(p, name, spec, lo=0.0, hi=1.0))


def layer_rows(rows, num_ws: int, name: str = "layers") -> list[int]:
    """W+ rows: distinct ints in [0, num_ws)."""
    if isinstance(rows, (str, bytes)) or not isinstance(rows, (Sequence, np.ndarray, range)):
        raise InputError(f"{name}: expected a list of W+ rows, got {type(rows).__name__} {rows!r}"[:200])
    out = []
    for r in rows:
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)):
            raise InputError(f"{name}: expected integer W+ rows, got {r!r}")
        out.append(int(r))
    bad = [r for r in out if not 0 <= r < num_ws]
    if bad:
        raise InputError(f"{name}: rows {bad} do not exist; this generator has W+ rows 0..{num_ws - 1}")
    if len(set(out)) != len(out):
        raise InputError(f"{name}: rows repeat: {out}")
    return out


def edit_direction(direction, num_ws: int, w_dim: int, name: str = "direction"):
    """A W+ edit direction: [w_dim] (every row) or [num_ws, w_dim]; a [1, w_dim] or wrong-sized
    vector is refused instead of being broadcast."""
    return real_array(direction, name, _direction_spec(np.ndim(direction), num_ws, w_dim))


def _direction_spec(ndim: int, num_ws: int, w_dim: int) -> Spec:
    return (num_ws, w_dim) if ndim == 2 else (w_dim,)


def direction_for(d, z_dim: int, w_dim: int, num_ws: int, name: str = "direction") -> None:
    """A `Direction` against a model: z directions need [z_dim]; w / w+ directions [w_dim] or
    [L, w_dim] with L = the named layers (or num_ws); named layers must be rows the model has."""
    v = np.asarray(d.vector)
    src = f"{name} ({d.space}-space {d.attribute or 'direction'})"
    if d.space == "z":
        if v.shape != (z_dim,):
            raise InputError(f"{src}: expected a z vector [{z_dim}] (the model's z_dim), got {_fmt_shape(v.shape)}")
        return
    if d.layers is not None:
        layer_rows(list(d.layers), num_ws, f"{src} layers")
    rows = num_ws if d.layers is None else len(d.layers)
    if v.ndim == 1 and v.shape != (w_dim,):
        raise InputError(f"{src}: expected a w vector [{w_dim}] (the model's w_dim), got {_fmt_shape(v.shape)}")
    if v.ndim == 2 and v.shape != (rows, w_dim):
        raise InputError(f"{src}: expected a per-layer vector [{rows}, {w_dim}], got {_fmt_shape(v.shape)}")


def read_npz(path: str | os.PathLike, name: str, needs: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """All arrays of a user's .npz (never unpickled) -> dict; InputError naming the file otherwise."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file ({name})")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, expected an .npz file ({name})")
    try:
        data = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise InputError(f"{p}: not a readable .npz archive ({name}; {short_reason(e)})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise InputError(f"{p}: a single .npy array, expected an .npz archive ({name})")
    out = {}
    with data:
        for k in data.files:
            try:
                out[k] = data[k]
            except ValueError:  # numpy's advice here is allow_pickle, which would run code from the file
                raise InputError(f"{p}: array {k!r} holds Python objects, refused (never unpickled)") from None
            except (OSError, EOFError, zipfile.BadZipFile) as e:
                raise InputError(f"{p}: array {k!r} is unreadable ({short_reason(e)})") from None
    missing = [k for k in needs if k not in out]
    if missing:
        raise InputError(f"{p}: missing array(s) {missing}; it holds {sorted(out)}")
    return out


def short_reason(e: BaseException) -> str:
    """An exception's first line, without numpy's pickle advice."""
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    return "pickled data, refused" if "allow_pickle" in msg else msg[:160]


def _type_ok(v, ann: str) -> bool:
    """JSON value `v` against a dataclass annotation string (str, int, float, bool, tuple[X, ...], X | None)."""
    if ann.endswith(" | None"):
        return v is None or _type_ok(v, ann[: -len(" | None")])
    if ann.startswith("tuple[") and ann.endswith(", ...]"):
        return isinstance(v, (list, tuple)) and all(_type_ok(e, ann[6:-6]) for e in v)
    if ann == "bool":
        return isinstance(v, bool)
    if ann == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if ann == "float":
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    if ann == "str":
        return isinstance(v, str)
    return True  # an annotation this reader does not know: left to the dataclass


def dataclass_fields(d, cls, name: str) -> dict:
    """A JSON object for dataclass `cls`: an object, no unknown keys, every required key present,
    every value of its field's type. One InputError listing every problem."""
    import dataclasses

    if not isinstance(d, dict):
        raise InputError(f"{name}: expected a JSON object, got {type(d).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    problems = [f"unknown key {k!r}" for k in d if k not in fields]
    for k, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if k not in d:
            if required:
                problems.append(f"missing {k!r}")
        elif not _type_ok(d[k], str(f.type)):
            problems.append(f"{k!r} must be {f.type}, got {type(d[k]).__name__} {json_repr(d[k])}")
    if problems:
        raise InputError(f"{name}: " + "; ".join(problems))
    return d


def json_repr(v) -> str:
    import json

    s = json.dumps(v)
    return s if len(s) <= 40 else s[:37] + "..."
