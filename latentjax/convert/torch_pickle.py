"""NVIDIA's PyTorch-era snapshots (StyleGAN2-ADA / StyleGAN3 releases), read without torch.

The file is `pickle.dump(dict(G=..., D=..., G_ema=..., ...))`; every network is a
`torch_utils.persistence` object: `_reconstruct_persistent_obj(meta)` with meta['state'] the
nn.Module `__dict__` and meta['module_src'] the Python source NVIDIA's loader would exec. We
keep the state and never look at the source. Tensors are `_rebuild_tensor_v2(storage, ...)`
over storages pickled as `torch.storage._load_from_bytes(legacy torch.save bytes)`, decoded by
`torch_storage.load_legacy` (shared with the rosinality reader).
"""

from __future__ import annotations

import numpy as np

from latentjax.config import GeneratorConfig
from latentjax.convert.safe_pickle import BUILTIN_GLOBALS, NUMPY_GLOBALS, EasyDict, Record
from latentjax.convert.stylegan3_pickle import is_stylegan3, read_stylegan3
from latentjax.convert.torch_storage import TENSOR_GLOBALS, load_legacy
from latentjax.convert.variables import build_variables
from latentjax.errors import LoadError, UnsupportedModelError
from latentjax.ops.fir import canonical_taps


class PersistentRecord(Record):
    """A `torch_utils.persistence` object: class name and module state, never its source."""

    @property
    def meta(self) -> dict:
        return self.args[0]


def _reconstruct_persistent_obj(meta):
    if not isinstance(meta, dict) or meta.get("type") != "class" or "state" not in meta:
        raise LoadError("malformed torch_utils.persistence record")
    return PersistentRecord(meta)


def _load_from_bytes(data):
    """`torch.storage._load_from_bytes`: a storage saved in torch's legacy format -> 1-D array."""
    if not isinstance(data, bytes | bytearray):
        raise LoadError("tensor storage payload is not bytes")
    storage = load_legacy(bytes(data), {}, "tensor storage")
    if not isinstance(storage, np.ndarray):
        raise LoadError("tensor storage record holds something other than one storage")
    return storage


TORCH_GLOBALS = {
    **NUMPY_GLOBALS,
    **BUILTIN_GLOBALS,
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("dnnlib.util", "EasyDict"): EasyDict,
    **TENSOR_GLOBALS,
    ("torch.storage", "_load_from_bytes"): _load_from_bytes,
}


def submodule(rec, name: str, source: str) -> PersistentRecord:
    mods = rec.meta["state"].get("_modules", {})
    if name not in mods or not isinstance(mods[name], PersistentRecord):
        raise LoadError(f"{source}: {rec.meta.get('class_name')} has no module '{name}'")
    return mods[name]


def module_tensor(rec, name: str, source: str) -> np.ndarray:
    st = rec.meta["state"]
    for group in ("_parameters", "_buffers"):
        if name in st.get(group, {}):
            return np.asarray(st[group][name])
    raise LoadError(f"{source}: {rec.meta.get('class_name')} has no tensor '{name}'")


def read_torch_pickle(obj, source: str, network: str = "G_ema") -> tuple[GeneratorConfig, dict]:
    """Snapshot dict -> (config, variables) of its StyleGAN2 or StyleGAN3 generator `network`."""
    if not isinstance(obj, dict) or network not in obj:
        raise LoadError(f"{source}: expected a snapshot dict with '{network}'")
    g = obj[network]
    if not isinstance(g, PersistentRecord) or g.meta.get("class_name") != "Generator":
        raise UnsupportedModelError(f"{source}: '{network}' is not a persistent Generator")
    st = g.meta["state"]
    syn, mp = submodule(g, "synthesis", source), submodule(g, "mapping", source)
    if is_stylegan3(syn):
        return read_stylegan3(g, source)
    if "b4" not in syn.meta["state"].get("_modules", {}):
        raise UnsupportedModelError(
            f"{source}: synthesis network has no b4 block: this is the "
            "StyleGAN3 (alias-free) architecture, only StyleGAN2 is supported"
        )
    if int(st.get("c_dim", 0)) != 0:
        raise UnsupportedModelError(f"{source}: conditional generator (c_dim={st['c_dim']}) is not supported")
    res, w_dim = int(st["img_resolution"]), int(st["w_dim"])
    log2 = res.bit_length() - 1
    n_map = sum(1 for k in mp.meta["state"]["_modules"] if k.startswith("fc"))
    fc0 = submodule(mp, "fc0", source)
    lr_mul = float(fc0.meta["state"].get("bias_gain", 0.01))
    blocks = [submodule(syn, f"b{2**r}", source) for r in range(2, log2 + 1)]
    for b in blocks:
        arch = b.meta["state"].get("architecture", "skip")
        if arch != "skip":
            raise UnsupportedModelError(f"{source}: block architecture '{arch}' (only 'skip')")
    conv1 = submodule(blocks[0], "conv1", source)
    clamp = conv1.meta["state"].get("conv_clamp")
    if conv1.meta["state"].get("use_noise", True) is not True:
        raise UnsupportedModelError(f"{source}: use_noise=False generators are not supported")
    f = module_tensor(submodule(blocks[-1], "conv0", source) if len(blocks) > 1 else conv1, "resample_filter", source)
    taps = f.sum(axis=1)
    if not np.allclose(np.outer(taps, taps) / taps.sum() ** 2, f, atol=1e-6):
        raise UnsupportedModelError(f"{source}: non-separable resample filter")
    channels = [module_tensor(blocks[0], "const", source).shape[0]]
    channels += [module_tensor(submodule(b, "conv1", source), "weight", source).shape[0] for b in blocks[1:]]
    cfg = GeneratorConfig(
        arch="stylegan2",
        resolution=res,
        z_dim=int(st["z_dim"]),
        w_dim=w_dim,
        channels=tuple(channels),
        img_channels=int(st.get("img_channels", 3)),
        mapping_layers=n_map,
        mapping_fmaps=module_tensor(fc0, "weight", source).shape[0],
        mapping_lr_mul=lr_mul,
        resample_taps=canonical_taps(taps),
        conv_clamp=None if clamp is None else float(clamp),
        name=source,
    )

    a: dict[tuple[str, ...], np.ndarray] = {}
    for i in range(n_map):
        fc = submodule(mp, f"fc{i}", source)
        a[("params", "mapping_network", f"fc{i}_weight")] = module_tensor(fc, "weight", source).T
        a[("params", "mapping_network", f"fc{i}_bias")] = module_tensor(fc, "bias", source)
    a[("buffers", "mapping_network", "w_avg")] = module_tensor(mp, "w_avg", source)
    S = "synthesis_network"
    a[("params", S, "const")] = module_tensor(blocks[0], "const", source).transpose(1, 2, 0)
    for r, b in zip(range(2, log2 + 1), blocks):
        names = ["conv1", "torgb"] if r == 2 else ["conv0", "conv1", "torgb"]
        for n in names:
            layer, me = submodule(b, n, source), f"b{2**r}_{n}"
            w = module_tensor(layer, "weight", source).transpose(2, 3, 1, 0)  # [O,I,k,k] -> [k,k,I,O]
            if n == "conv0":  # the PyTorch port stores the up-sampling conv's kernel flipped
                w = w[::-1, ::-1]
            aff = submodule(layer, "affine", source)
            a[("params", S, me, "weight")] = w
            a[("params", S, me, "bias")] = module_tensor(layer, "bias", source)
            a[("params", S, me, "affine_weight")] = module_tensor(aff, "weight", source).T
            a[("params", S, me, "affine_bias")] = module_tensor(aff, "bias", source)
            if n != "torgb":
                a[("params", S, me, "noise_strength")] = module_tensor(layer, "noise_strength", source)
                a[("buffers", S, me, "noise_const")] = module_tensor(layer, "noise_const", source)
    return cfg, build_variables(cfg, a, source)
