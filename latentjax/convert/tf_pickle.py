"""NVIDIA's TensorFlow pickles: StyleGAN (`G_style`, network version 3) and StyleGAN2
(`G_main` + `G_synthesis_stylegan2`, version 4). A file holds the tuple (G, D, Gs) of
`dnnlib.tflib.network.Network` states; each state lists its own variables as (name, ndarray)
and its sub-networks under `components`. Variable layout is TF's: conv [k, k, in, out] (our
HWIO, kept as is), dense [in, out], noise/const NCHW.
"""

from __future__ import annotations

import numpy as np

from latentjax.config import GeneratorConfig
from latentjax.convert.safe_pickle import BUILTIN_GLOBALS, NUMPY_GLOBALS, NetworkRecord
from latentjax.convert.variables import build_variables
from latentjax.errors import LoadError, UnsupportedModelError

TF_GLOBALS = {
    **NUMPY_GLOBALS,
    **BUILTIN_GLOBALS,
    ("dnnlib.tflib.network", "Network"): NetworkRecord,
}

# static kwargs we read (honoured), and those accepted only at their default value.
_HONOURED = {
    "latent_size",
    "dlatent_size",
    "resolution",
    "num_channels",
    "fmap_base",
    "fmap_decay",
    "fmap_min",
    "fmap_max",
    "mapping_layers",
    "mapping_fmaps",
    "mapping_lrmul",
    "normalize_latents",
    "fused_scale",
    "blur_filter",
    "resample_kernel",
    "dlatent_broadcast",
    # run-time or training-only settings that do not change the network's function
    "truncation_psi",
    "truncation_cutoff",
    "truncation_psi_val",
    "truncation_cutoff_val",
    "dlatent_avg_beta",
    "style_mixing_prob",
    "is_training",
    "is_validation",
    "is_template_graph",
    "randomize_noise",
    "structure",
    "force_clean_graph",
    "fused_modconv",
    "return_dlatents",
    "conv_clamp",  # StyleGAN2-ADA (TF): activation clamp, honoured
    "num_fp16_res",  # StyleGAN2-ADA (TF): fp16 on GPU only; we compute in float32 as on CPU
    "w_avg_beta",  # training-only (w_avg update rate)
}
_FIXED = {
    "label_size": 0,
    "mapping_nonlinearity": "lrelu",
    "nonlinearity": "lrelu",
    "use_wscale": True,
    "use_styles": True,
    "const_input_layer": True,
    "use_noise": True,
    "use_pixel_norm": False,
    "use_instance_norm": True,
    "dtype": "float32",
    "architecture": "skip",
    "mapping_func": "G_mapping",
    "synthesis_func": "G_synthesis_stylegan2",
}


def _state(net, what: str) -> dict:
    if not isinstance(net, NetworkRecord) or not isinstance(net.state, dict):
        raise LoadError(f"{what} is not a dnnlib Network state")
    s = net.state
    for k in ("name", "static_kwargs", "components", "build_func_name", "variables"):
        if k not in s:
            raise LoadError(f"{what}: Network state lacks '{k}'")
    return s


def _vars(state: dict, what: str) -> dict[str, np.ndarray]:
    out = {}
    for item in state["variables"]:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise LoadError(f"{what}: malformed variable entry {item!r:.80}")
        name, value = item
        if not isinstance(value, np.ndarray | np.generic | float | int):
            raise LoadError(f"{what}: variable {name} is {type(value).__name__}, not an array")
        out[name] = np.asarray(value)
    return out


def _check_kwargs(kwargs: dict, source: str) -> None:
    for k, v in kwargs.items():
        if k in _HONOURED:
            continue
        if k not in _FIXED:
            raise UnsupportedModelError(f"{source}: unknown static kwarg {k}={v!r}; refusing to guess its meaning")
        if v != _FIXED[k]:
            raise UnsupportedModelError(f"{source}: {k}={v!r} is not supported (only {_FIXED[k]!r})")


def _get(v: dict, name: str, source: str) -> np.ndarray:
    if name not in v:
        raise LoadError(f"{source}: missing TF variable '{name}'")
    return v[name]


def stylegan2_tf_layers(cfg: GeneratorConfig) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(TF scope, our layer) of `G_synthesis_stylegan2`'s modulated convs, in noise-input order
    (noise{i} feeds convs[i]), and of its ToRGB layers."""
    convs = [("4x4/Conv", "b4_conv1")]
    for r in cfg.block_resolutions[1:]:
        convs += [(f"{r}x{r}/Conv0_up", f"b{r}_conv0"), (f"{r}x{r}/Conv1", f"b{r}_conv1")]
    return convs, [(f"{r}x{r}/ToRGB", f"b{r}_torgb") for r in cfg.block_resolutions]


def read_tf_pickle(obj, source: str, network: str = "Gs") -> tuple[GeneratorConfig, dict]:
    """(G, D, Gs) tuple (or a bare Network) -> (config, variables)."""
    if isinstance(obj, tuple) and len(obj) == 3:
        net = obj[{"G": 0, "D": 1, "Gs": 2}[network]]
    elif isinstance(obj, NetworkRecord):
        net = obj
    else:
        raise LoadError(f"{source}: expected the (G, D, Gs) tuple of a TF StyleGAN pickle")
    top = _state(net, source)
    func = top["build_func_name"]
    if func not in ("G_style", "G_main"):
        raise UnsupportedModelError(
            f"{source}: network '{top['name']}' is built by {func}, not a StyleGAN generator (G_style / G_main)"
        )
    arch = "stylegan" if func == "G_style" else "stylegan2"
    comps = top["components"]
    if not isinstance(comps, dict) or not {"mapping", "synthesis"} <= set(comps):
        raise LoadError(f"{source}: generator lacks mapping/synthesis components")
    m_state, s_state = _state(comps["mapping"], source), _state(comps["synthesis"], source)
    want_synth = "G_synthesis" if arch == "stylegan" else "G_synthesis_stylegan2"
    if s_state["build_func_name"] != want_synth:
        raise UnsupportedModelError(
            f"{source}: synthesis built by {s_state['build_func_name']}, only {want_synth} is supported for {func}"
        )
    kwargs = {**top["static_kwargs"], **m_state["static_kwargs"], **s_state["static_kwargs"]}
    _check_kwargs(kwargs, source)
    tv, mv, sv = _vars(top, source), _vars(m_state, source), _vars(s_state, source)
    for v in (tv, sv):
        if "lod" in v and float(v["lod"]) != 0.0:
            raise UnsupportedModelError(
                f"{source}: lod={float(v['lod'])} (mid progressive-growing snapshot); only lod 0 networks are supported"
            )

    res = int(kwargs.get("resolution", 1024))
    log2 = res.bit_length() - 1
    n_map = sum(1 for k in mv if k.endswith("/weight") and k.startswith("Dense"))
    d0 = _get(mv, "Dense0/weight", source)
    dl = _get(mv, f"Dense{n_map - 1}/weight", source)
    const = _get(sv, "4x4/Const/const", source)
    if const.ndim != 4:
        raise LoadError(f"{source}: 4x4/Const/const has shape {const.shape}")
    channels = [const.shape[1]]
    for r in range(3, log2 + 1):
        channels.append(_get(sv, f"{2**r}x{2**r}/Conv1/weight", source).shape[-1])
    fused = kwargs.get("fused_scale", "auto")
    if fused not in (True, False, "auto"):
        raise UnsupportedModelError(f"{source}: fused_scale={fused!r}")
    blur = kwargs.get("blur_filter", [1, 2, 1]) or ()
    common = dict(
        arch=arch,
        resolution=res,
        z_dim=d0.shape[0],
        w_dim=dl.shape[1],
        channels=tuple(channels),
        img_channels=int(kwargs.get("num_channels", 3)),
        mapping_layers=n_map,
        mapping_fmaps=d0.shape[1],
        mapping_lr_mul=float(kwargs.get("mapping_lrmul", 0.01)),
        normalize_latents=bool(kwargs.get("normalize_latents", True)),
        name=source,
    )
    clamp = kwargs.get("conv_clamp")
    if arch == "stylegan" and clamp is not None:
        raise UnsupportedModelError(f"{source}: conv_clamp={clamp!r} on a StyleGAN (v1) network")
    if arch == "stylegan":
        cfg = GeneratorConfig(
            **common,
            blur_taps=tuple(blur),
            fused_up=tuple(fused is True or (fused == "auto" and 2**r >= 128) for r in range(3, log2 + 1)),
        )
    else:
        cfg = GeneratorConfig(
            **common,
            resample_taps=tuple(kwargs.get("resample_kernel", [1, 3, 3, 1])),
            conv_clamp=None if clamp is None else float(clamp),
        )

    a: dict[tuple[str, ...], np.ndarray] = {}
    for i in range(n_map):
        a[("params", "mapping_network", f"fc{i}_weight")] = mv[f"Dense{i}/weight"]
        a[("params", "mapping_network", f"fc{i}_bias")] = _get(mv, f"Dense{i}/bias", source)
    a[("buffers", "mapping_network", "w_avg")] = _get(tv, "dlatent_avg", source)
    S = "synthesis_network"
    a[("params", S, "const")] = const[0].transpose(1, 2, 0)
    if arch == "stylegan":
        names = ["4x4/Const", "4x4/Conv"] + [
            f"{2**r}x{2**r}/{c}" for r in range(3, log2 + 1) for c in ("Conv0_up", "Conv1")
        ]
        ours = ["b4_const", "b4_conv"] + [f"b{2**r}_{c}" for r in range(3, log2 + 1) for c in ("conv0_up", "conv1")]
        for i, (tf, me) in enumerate(zip(names, ours)):
            if i > 0:
                a[("params", S, me, "weight")] = _get(sv, f"{tf}/weight", source)
            a[("params", S, me, "noise_weight")] = _get(sv, f"{tf}/Noise/weight", source)
            a[("params", S, me, "bias")] = _get(sv, f"{tf}/bias", source)
            a[("params", S, me, "style_weight")] = _get(sv, f"{tf}/StyleMod/weight", source)
            a[("params", S, me, "style_bias")] = _get(sv, f"{tf}/StyleMod/bias", source)
            a[("buffers", S, me, "noise_const")] = _get(sv, f"noise{i}", source)[0, 0]
        a[("params", S, "torgb_weight")] = _get(sv, "ToRGB_lod0/weight", source)
        a[("params", S, "torgb_bias")] = _get(sv, "ToRGB_lod0/bias", source)
    else:
        layers, rgb = stylegan2_tf_layers(cfg)
        for i, (tf, me) in enumerate(layers):
            a[("params", S, me, "weight")] = _get(sv, f"{tf}/weight", source)
            a[("params", S, me, "noise_strength")] = _get(sv, f"{tf}/noise_strength", source)
            a[("params", S, me, "bias")] = _get(sv, f"{tf}/bias", source)
            a[("buffers", S, me, "noise_const")] = _get(sv, f"noise{i}", source)[0, 0]
        for tf, me in layers + rgb:
            a[("params", S, me, "affine_weight")] = _get(sv, f"{tf}/mod_weight", source)
            a[("params", S, me, "affine_bias")] = _get(sv, f"{tf}/mod_bias", source) + 1.0  # official +1
        for tf, me in rgb:
            a[("params", S, me, "weight")] = _get(sv, f"{tf}/weight", source)
            a[("params", S, me, "bias")] = _get(sv, f"{tf}/bias", source)
    return cfg, build_variables(cfg, a, source)
