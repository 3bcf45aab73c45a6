"""Entry point: sniff a model file's format (NVIDIA TF pickle, NVIDIA PyTorch snapshot, rosinality
`torch.save` checkpoint) and convert it safely."""

from __future__ import annotations

import os
import pickletools

from latentjax.config import GeneratorConfig
from latentjax.convert.rosinality import read_rosinality
from latentjax.convert.safe_pickle import BUILTIN_GLOBALS, NUMPY_GLOBALS, restricted_loads
from latentjax.convert.tf_pickle import TF_GLOBALS, read_tf_pickle
from latentjax.convert.torch_pickle import TORCH_GLOBALS, read_torch_pickle
from latentjax.convert.torch_storage import is_torch_save
from latentjax.errors import LoadError


def pickle_globals(data: bytes, source: str) -> set[str]:
    """Module names the pickle imports, read from its opcodes without executing anything."""
    mods, strings = set(), []
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name == "GLOBAL":
                mods.add(str(arg).split(" ")[0])
            elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
                strings.append(arg)
            elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                mods.add(strings[-2])
    except Exception as e:
        raise LoadError(f"{source}: not a pickle, or corrupt/truncated ({e})") from None
    return mods


def read_generator_pickle(path: str | os.PathLike, network: str | None = None) -> tuple[GeneratorConfig, dict]:
    """Official pickle or rosinality `.pt` -> (config, variables). TF (G, D, Gs) tuples use Gs by
    default, PyTorch snapshots G_ema, rosinality checkpoints g_ema.
    Raises LoadError / UnsafePickleError / UnsupportedModelError."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise LoadError(f"cannot read {source}: {e.strerror or e}") from None
    if not data:
        raise LoadError(f"{source}: empty file")
    if is_torch_save(data):
        return read_rosinality(data, source, network)
    if data[:1] != b"\x80":
        raise LoadError(f"{source}: not a pickle (no protocol header)")
    mods = pickle_globals(data, source)
    if "dnnlib.tflib.network" in mods:
        obj = restricted_loads(data, TF_GLOBALS, source)
        return read_tf_pickle(obj, source, network or "Gs")
    if "torch_utils.persistence" in mods:
        obj = restricted_loads(data, TORCH_GLOBALS, source)
        return read_torch_pickle(obj, source, network or "G_ema")
    # Neither format: still unpickle restrictively so hostile content is reported as such.
    restricted_loads(data, {**NUMPY_GLOBALS, **BUILTIN_GLOBALS}, source)
    raise LoadError(f"{source}: not a StyleGAN pickle (no dnnlib Network or persistent Generator)")
