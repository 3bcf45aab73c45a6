"""What a render request asks for, parsed and checked: `RenderSettings` from query pairs.

Pure (no JAX, no HTTP): `parse_render_query([("seed", "3"), ("psi", "0.7"), ("smiling", "2")],
directions=("smiling",), num_ws=10)` -> RenderSettings. Every problem raises `RequestError` with
the HTTP status the server answers and a message naming the parameter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Query keys with a fixed meaning: a direction may not be called any of these.
RESERVED = frozenset({"seed", "latent", "psi", "cutoff", "layers", "mix_seed", "mix_layer"})
PSI_RANGE = (-1.0, 2.0)  # psi < 0 flips attributes through the average face (still meaningful); > 2 is noise
MAX_ABS_STRENGTH = 100.0  # |lambda| for a unit direction; w's spread per axis is ~1, its norm ~10 (toyfaces 7)
MAX_SEED = 2**32 - 1  # NVIDIA's seeds feed np.random.RandomState, which takes [0, 2**32)
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
LATENT_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class RequestError(ValueError):
    """A request the server refuses; `status` is the HTTP code (400 bad input, 404 unknown, 409, 413, 429)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RenderSettings:
    """One image: a seed's z (or a stored latent), truncation, style mix, direction strengths.

    strengths: (direction name, lambda) pairs, zeros dropped, sorted by name, so two requests
    for the same image compare (and cache) equal whatever the order of their parameters.
    layers: an override of every direction's own W+ rows ("coarse", "0-3", ...) or None.
    """

    seed: int | None = None
    latent: str | None = None
    psi: float = 1.0
    cutoff: int | None = None
    strengths: tuple[tuple[str, float], ...] = ()
    layers: str | None = None
    mix_seed: int | None = None
    mix_layer: int | None = None

    def __post_init__(self):
        if (self.seed is None) == (self.latent is None):
            raise RequestError("give exactly one of seed= (an integer) or latent= (an ID from /api/invert)")
        clean = tuple(sorted((str(n), float(s)) for n, s in self.strengths if float(s) != 0.0))
        object.__setattr__(self, "strengths", clean)


def parse_int(name: str, value: str, lo: int, hi: int) -> int:
    """value as an int in [lo, hi]; RequestError naming `name` otherwise (no floats, no '1e3')."""
    v = value.strip()
    if not re.fullmatch(r"[+-]?[0-9]{1,20}", v):
        raise RequestError(f"{name} must be an integer, got {value!r}")
    i = int(v)
    if not lo <= i <= hi:
        raise RequestError(f"{name} must be in [{lo}, {hi}], got {i}")
    return i


def parse_float(name: str, value: str, lo: float, hi: float) -> float:
    """value as a finite float in [lo, hi]; RequestError naming `name` otherwise."""
    try:
        f = float(value)
    except ValueError:
        raise RequestError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(f) or not lo <= f <= hi:
        raise RequestError(f"{name} must be a finite number in [{lo:g}, {hi:g}], got {value!r}")
    return f


def parse_seed(name: str, value) -> int:
    """A seed from JSON (int) or a query (str): an integer in [0, 2**32)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise RequestError(f"{name} must be an integer seed, got {value!r}")
    return parse_int(name, str(value), 0, MAX_SEED)


def check_name(name, what: str = "direction name") -> str:
    """A direction name usable as a query key and a file stem: letter, then letters/digits/_/-, <= 64."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise RequestError(f"{what} must be a letter followed by up to 63 letters, digits, '_' or '-', got {name!r}")
    if name in RESERVED:
        raise RequestError(f"{what} {name!r} is reserved (it is a render parameter: {', '.join(sorted(RESERVED))})")
    return name


def parse_render_query(pairs: Iterable[tuple[str, str]], directions: Sequence[str], num_ws: int) -> RenderSettings:
    """Query pairs -> RenderSettings. Keys: seed | latent, psi, cutoff, layers, mix_seed, mix_layer,
    and one per direction name (its strength). Unknown or repeated keys are refused."""
    seen: dict[str, str] = {}
    for k, v in pairs:
        if k in seen:
            raise RequestError(f"parameter {k!r} given twice")
        seen[k] = v
    known = set(directions)
    unknown = [k for k in seen if k not in RESERVED and k not in known]
    if unknown:
        names = ", ".join(sorted(known)) or "none loaded"
        raise RequestError(f"unknown direction or parameter {unknown[0]!r} (directions: {names})")
    kw: dict = {}
    if "seed" in seen:
        kw["seed"] = parse_seed("seed", seen["seed"])
    if "latent" in seen:
        if not LATENT_PATTERN.fullmatch(seen["latent"]):
            raise RequestError(f"latent must be an ID from /api/invert, got {seen['latent']!r}")
        kw["latent"] = seen["latent"]
    if "psi" in seen:
        kw["psi"] = parse_float("psi", seen["psi"], *PSI_RANGE)
    if "cutoff" in seen:
        kw["cutoff"] = parse_int("cutoff", seen["cutoff"], 0, num_ws)
    if "layers" in seen:
        kw["layers"] = seen["layers"]
    if ("mix_seed" in seen) != ("mix_layer" in seen):
        raise RequestError("style mixing needs both mix_seed= and mix_layer= (crossover: rows >= mix_layer)")
    if "mix_seed" in seen:
        kw["mix_seed"] = parse_seed("mix_seed", seen["mix_seed"])
        kw["mix_layer"] = parse_int("mix_layer", seen["mix_layer"], 0, num_ws)
    strengths = [
        (k, parse_float(f"strength of {k!r}", v, -MAX_ABS_STRENGTH, MAX_ABS_STRENGTH))
        for k, v in seen.items()
        if k in known
    ]
    return RenderSettings(strengths=tuple(strengths), **kw)
