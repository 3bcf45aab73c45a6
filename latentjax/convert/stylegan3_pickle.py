"""StyleGAN3 generators from NVIDIA's PyTorch snapshots (already unpickled by the restricted
unpickler in torch_pickle.py: no embedded source executed, no torch).

Everything the official forward pass reads comes from the pickle: sizes, factors, padding,
sampling rate and bandwidth of the input are module attributes; filters, freqs, phases, the
input transform, magnitude_ema and w_avg are stored buffers. Nothing is re-designed here (stored
filters may differ from what the config would design).
"""

from __future__ import annotations

import numpy as np

from latentjax.config import GeneratorConfig
from latentjax.convert.variables import build_variables
from latentjax.errors import LoadError, UnsupportedModelError


def _state(rec) -> dict:
    return rec.meta["state"]


def _module(rec, name: str, source: str):
    mods = _state(rec).get("_modules", {})
    if mods.get(name) is None:
        raise LoadError(f"{source}: {rec.meta.get('class_name')} has no module '{name}'")
    return mods[name]


def _tensor(rec, name: str, source: str, optional: bool = False) -> np.ndarray | None:
    st = _state(rec)
    for group in ("_parameters", "_buffers"):
        if name in st.get(group, {}):
            v = st[group][name]
            if v is None and optional:
                return None
            if v is None:
                break
            return np.asarray(v, np.float32)
    if optional:
        return None
    raise LoadError(f"{source}: {rec.meta.get('class_name')} has no tensor '{name}'")


def _attr(rec, name: str, source: str):
    st = _state(rec)
    if name not in st:
        raise LoadError(f"{source}: {rec.meta.get('class_name')} has no attribute '{name}'")
    return st[name]


def _square(v, what: str, source: str) -> int:
    a = np.broadcast_to(np.asarray(v), [2])
    if a[0] != a[1]:
        raise UnsupportedModelError(f"{source}: non-square {what} {list(a)} (only square StyleGAN3 supported)")
    return int(a[0])


def is_stylegan3(synthesis) -> bool:
    """A persistent SynthesisNetwork with a Fourier `input` and `layer_names` is StyleGAN3's."""
    st = _state(synthesis)
    return "input" in st.get("_modules", {}) and "layer_names" in st


def read_stylegan3(g, source: str) -> tuple[GeneratorConfig, dict]:
    """Persistent StyleGAN3 `Generator` record -> (config, variables)."""
    st = _state(g)
    if int(st.get("c_dim", 0)) != 0:
        raise UnsupportedModelError(f"{source}: conditional generator (c_dim={st['c_dim']}) is not supported")
    syn, mp = _module(g, "synthesis", source), _module(g, "mapping", source)
    sst, inp = _state(syn), _module(syn, "input", source)
    names = [str(n) for n in _attr(syn, "layer_names", source)]
    layers = [_module(syn, n, source) for n in names]
    n_map = int(_attr(mp, "num_layers", source))
    fc0 = _module(mp, "fc0", source)
    clamps = {_state(layer).get("conv_clamp") for layer in layers}
    if len(clamps) != 1:
        raise UnsupportedModelError(f"{source}: layers use different conv_clamp values {sorted(map(str, clamps))}")
    clamp = clamps.pop()
    if not _state(layers[-1]).get("is_torgb", False) or any(_state(x).get("is_torgb", False) for x in layers[:-1]):
        raise UnsupportedModelError(f"{source}: expected ToRGB as the last synthesis layer only")

    a: dict[tuple[str, ...], np.ndarray] = {}
    S = ("params", "synthesis_network")
    B = ("buffers", "synthesis_network")
    sizes, kernels, ups, downs, up_taps, down_taps, radial, pads = [], [], [], [], [], [], [], []
    for name, layer in zip(names, layers):
        lst = _state(layer)
        w = _tensor(layer, "weight", source)  # [O, I, k, k]
        if w.ndim != 4 or w.shape[2] != w.shape[3]:
            raise UnsupportedModelError(f"{source}: {name}.weight has shape {w.shape}, expected [O, I, k, k]")
        in_size, out_size = _square(lst["in_size"], "in_size", source), _square(lst["out_size"], "out_size", source)
        if sizes and in_size != sizes[-1]:
            raise LoadError(f"{source}: {name} takes {in_size}^2 but the previous layer outputs {sizes[-1]}^2")
        sizes.append(out_size)
        kernels.append(w.shape[2])
        ups.append(int(_attr(layer, "up_factor", source)))
        downs.append(int(_attr(layer, "down_factor", source)))
        pad = [int(p) for p in _attr(layer, "padding", source)]
        if len(pad) != 4:
            raise LoadError(f"{source}: {name}.padding must be [x0, x1, y0, y1], got {pad}")
        pads.append(tuple(pad))
        fu, fd = _tensor(layer, "up_filter", source, True), _tensor(layer, "down_filter", source, True)
        if fu is not None and fu.ndim != 1:
            raise UnsupportedModelError(f"{source}: {name}.up_filter has shape {fu.shape}; only 1-D up filters")
        if fd is not None and (fd.ndim not in (1, 2) or (fd.ndim == 2 and fd.shape[0] != fd.shape[1])):
            raise UnsupportedModelError(f"{source}: {name}.down_filter has shape {fd.shape}")
        up_taps.append(0 if fu is None else fu.shape[0])
        down_taps.append(0 if fd is None else fd.shape[0])
        radial.append(fd is not None and fd.ndim == 2)
        aff = _module(layer, "affine", source)
        a[(*S, name, "weight")] = w.transpose(2, 3, 1, 0)  # [O, I, k, k] -> [k, k, I, O]; both correlate
        a[(*S, name, "bias")] = _tensor(layer, "bias", source)
        a[(*S, name, "affine_weight")] = _tensor(aff, "weight", source).T
        a[(*S, name, "affine_bias")] = _tensor(aff, "bias", source)
        a[(*B, name, "magnitude_ema")] = _tensor(layer, "magnitude_ema", source)
        if fu is not None:
            a[(*B, name, "up_filter")] = fu
        if fd is not None:
            a[(*B, name, "down_filter")] = fd
        if float(_state(aff).get("bias_gain", 1.0)) != 1.0:
            raise UnsupportedModelError(f"{source}: {name}.affine has an lr multiplier (not StyleGAN3's)")

    channels = [int(_tensor(layer, "weight", source).shape[0]) for layer in layers]
    in_size = _square(_attr(inp, "size", source), "input size", source)
    if in_size != _square(_state(layers[0])["in_size"], "in_size", source):
        raise LoadError(f"{source}: the input is {in_size}^2 but {names[0]} takes another size")
    cfg = GeneratorConfig(
        arch="stylegan3",
        resolution=int(st["img_resolution"]),
        z_dim=int(st["z_dim"]),
        w_dim=int(st["w_dim"]),
        channels=tuple(channels),
        img_channels=int(st.get("img_channels", 3)),
        mapping_layers=n_map,
        mapping_fmaps=int(_tensor(fc0, "weight", source).shape[0]),
        mapping_lr_mul=float(_state(fc0).get("bias_gain", 0.01)),
        conv_clamp=None if clamp is None else float(clamp),
        sg3_sizes=tuple(sizes),
        sg3_kernels=tuple(kernels),
        sg3_up=tuple(ups),
        sg3_down=tuple(downs),
        sg3_up_taps=tuple(up_taps),
        sg3_down_taps=tuple(down_taps),
        sg3_down_radial=tuple(radial),
        sg3_padding=tuple(pads),
        sg3_sampling_rate=float(_attr(inp, "sampling_rate", source)),
        sg3_bandwidth=float(_attr(inp, "bandwidth", source)),
        sg3_output_scale=float(sst.get("output_scale", 1.0)),
        name=source,
    )
    if cfg.num_ws != int(st.get("num_ws", cfg.num_ws)):
        raise LoadError(f"{source}: num_ws {st['num_ws']} does not match {len(names)} layers + input")

    for i in range(n_map):
        fc = _module(mp, f"fc{i}", source)
        a[("params", "mapping_network", f"fc{i}_weight")] = _tensor(fc, "weight", source).T
        a[("params", "mapping_network", f"fc{i}_bias")] = _tensor(fc, "bias", source)
    a[("buffers", "mapping_network", "w_avg")] = _tensor(mp, "w_avg", source)
    aff = _module(inp, "affine", source)
    a[(*S, "input", "weight")] = _tensor(inp, "weight", source).T  # x @ weight.T in the official code
    a[(*S, "input", "affine_weight")] = _tensor(aff, "weight", source).T
    a[(*S, "input", "affine_bias")] = _tensor(aff, "bias", source)
    for k in ("freqs", "phases", "transform"):
        a[(*B, "input", k)] = _tensor(inp, k, source)
    return cfg, build_variables(cfg, a, source)
