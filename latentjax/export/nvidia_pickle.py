"""Our StyleGAN2 -> an NVIDIA TF-era network pickle, written without NVIDIA's code.

The file is the tuple (G, D, Gs) of `dnnlib.tflib.network.Network` states (pickle protocol 4),
the layout NVIDIA's `legacy.load_network_pkl` (stylegan2-ada-pytorch, stylegan3) converts to
its PyTorch networks from plain arrays, and the one `convert/tf_pickle.py` reads. A state is
a dict: version 4, name, static_kwargs (the build arguments), components (sub-networks),
build_module_src (NVIDIA embeds Python source there; we write a placeholder sentence, and no
loader of ours executes it), build_func_name, and variables = [(name, float32 ndarray or
numpy.float32 scalar), ...] in TF layout (conv [k, k, in, out], dense [in, out]: our own
layout, so weights are copied unchanged; `mod_bias` is stored without the +1).

Widths are not stored: NVIDIA rebuilds them as min(2 fmap_base // res, fmap_max), so the
model's widths must have that form. A TF pickle needs a discriminator: the source's when it has
one, else an untrained one of the matching configuration, said in its state and to the user
(`tf_discriminator.py`).
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from latentjax.config import GeneratorConfig
from latentjax.convert.tf_pickle import stylegan2_tf_layers
from latentjax.errors import ExportError
from latentjax.export.pickler import Call, Global, dump
from latentjax.export.tf_discriminator import UNTRAINED, TFNet, fmap_for, random_discriminator, resample_kwargs

NETWORK = Global("dnnlib.tflib.network", "Network")
NUMPY_GLOBALS = (
    Global("numpy.core.multiarray", "_reconstruct"),
    Global("numpy.core.multiarray", "scalar"),
    Global("numpy", "ndarray"),
    Global("numpy", "dtype"),
)  # numpy 1.x names, as in NVIDIA's pickles; numpy 2 still resolves them
PLACEHOLDER_SRC = (
    "# Written by latentjax. NVIDIA's pickles embed the Python source of their network here;\n"
    "# this file carries none. Loaders rebuild the network from build_func_name + static_kwargs.\n"
)


def _dtype() -> Call:
    """numpy.dtype('float32') as numpy pickles it."""
    return Call(NUMPY_GLOBALS[3], ("f4", False, True), state=(3, "<", None, None, None, -1, -1, 0))


def _array(a) -> Call:
    """A float32 C-contiguous ndarray as numpy pickles it (_reconstruct + BUILD with raw bytes)."""
    a = np.ascontiguousarray(a, dtype="<f4")
    return Call(NUMPY_GLOBALS[0], (NUMPY_GLOBALS[2], (0,), b"b"), state=(1, a.shape, _dtype(), False, a.tobytes()))


def _scalar(x) -> Call:
    """A numpy.float32 scalar (what TF's session.run returns for 0-d variables)."""
    return Call(NUMPY_GLOBALS[1], (_dtype(), np.asarray(x, "<f4").tobytes()))


def _plain(x):
    """Static kwargs as Python values (numpy scalars from stored pickles become numbers)."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, list | tuple):
        return type(x)(_plain(v) for v in x)
    return x


def _network(net: TFNet) -> Call:
    """A Network state as NVIDIA's pickles hold it (NEWOBJ of the class, then BUILD)."""
    state = {
        "version": 4,
        "name": net.name,
        "static_kwargs": {k: _plain(v) for k, v in net.static_kwargs.items()},
        "components": {k: _network(c) for k, c in net.components.items()},
        "build_module_src": PLACEHOLDER_SRC + "".join(f"# {v}\n" for v in net.extra.values()),
        "build_func_name": net.func,
        "variables": [(n, _scalar(v) if np.ndim(v) == 0 else _array(v)) for n, v in net.variables],
        **{k: _plain(v) for k, v in net.extra.items()},
    }
    return Call(NETWORK, (), state=state, new=True)


def fmap_for_widths(cfg: GeneratorConfig) -> tuple[int, int]:
    """(fmap_base, fmap_max) that NVIDIA's loaders turn back into this generator's widths."""
    return fmap_for(cfg.block_resolutions, cfg.channels, cfg.name or "model")


def _static_kwargs(cfg: GeneratorConfig, fmap_base: int, fmap_max: int) -> dict:
    kw = dict(
        num_channels=cfg.img_channels,
        resolution=cfg.resolution,
        label_size=0,
        latent_size=cfg.z_dim,
        dlatent_size=cfg.w_dim,
        mapping_layers=cfg.mapping_layers,
        mapping_fmaps=cfg.mapping_fmaps,
        mapping_lrmul=float(cfg.mapping_lr_mul),
        fmap_base=fmap_base,
        fmap_max=fmap_max,
    )
    kw.update(resample_kwargs(cfg.resample_taps))
    if cfg.conv_clamp is not None:
        kw["conv_clamp"] = float(cfg.conv_clamp)
    return kw


def _generator(name: str, cfg: GeneratorConfig, v: dict, kw: dict) -> TFNet:
    P, B = v["params"]["synthesis_network"], v["buffers"]["synthesis_network"]
    convs, rgbs = stylegan2_tf_layers(cfg)
    syn = [(f"noise{i}", np.asarray(B[me]["noise_const"])[None, None]) for i, (_, me) in enumerate(convs)]
    syn.append(("4x4/Const/const", np.asarray(P["const"]).transpose(2, 0, 1)[None]))
    rgb_of = dict(zip(cfg.block_resolutions, rgbs))
    order = [convs[0], rgb_of[4]]
    for k, r in enumerate(cfg.block_resolutions[1:]):
        order += [convs[2 * k + 1], convs[2 * k + 2], rgb_of[r]]
    for tf, me in order:
        p = P[me]
        syn += [(f"{tf}/weight", p["weight"]), (f"{tf}/mod_weight", p["affine_weight"])]
        syn.append((f"{tf}/mod_bias", np.asarray(p["affine_bias"], np.float32) - np.float32(1.0)))  # TF adds the 1
        if "noise_strength" in p:
            syn.append((f"{tf}/noise_strength", p["noise_strength"]))
        syn.append((f"{tf}/bias", p["bias"]))
    M = v["params"]["mapping_network"]
    mapping = [(f"Dense{i}/{t}", M[f"fc{i}_{t}"]) for i in range(cfg.mapping_layers) for t in ("weight", "bias")]
    components = {
        "synthesis": TFNet("G_synthesis", "G_synthesis_stylegan2", kw, syn),
        "mapping": TFNet("G_mapping", "G_mapping", {"dlatent_broadcast": cfg.num_ws, **kw}, mapping),
    }
    top = [("lod", np.float32(0.0)), ("dlatent_avg", v["buffers"]["mapping_network"]["w_avg"])]
    return TFNet(name, "G_main", kw, top, components)


def nvidia_networks(
    cfg: GeneratorConfig,
    variables: dict,
    discriminator: TFNet | None = None,
    d_seed: int = 0,
    training_variables: dict | None = None,
) -> tuple[tuple, list[str]]:
    """(config, variables) -> ((G, D, Gs) as pickler records, notes for the user). `variables`
    become Gs; `training_variables` (same config) G, else G repeats Gs. Without a
    `discriminator` an untrained one of the matching configuration is written."""
    why = None
    if cfg.arch != "stylegan2":
        why = f"it is a {cfg.arch} generator; the TF-era (G, D, Gs) format NVIDIA's loader converts is StyleGAN2 only"
    elif not cfg.normalize_latents:
        why = "its mapping does not pixel-normalise z, which NVIDIA's StyleGAN2 always does"
    if why:
        raise ExportError(f"{cfg.name or 'model'} cannot be written as an NVIDIA pickle: {why}")
    fmap_base, fmap_max = fmap_for_widths(cfg)
    v = jax.device_get(variables)
    kw = _static_kwargs(cfg, fmap_base, fmap_max)
    notes = [f"G static kwargs: {kw}"]
    if discriminator is None:
        discriminator = random_discriminator(cfg, fmap_base, fmap_max, d_seed)
        notes.append(f"D is {UNTRAINED} (seed {d_seed}): do not use it to train or to score images")
    if training_variables is None:
        notes.append("G (the training copy) holds the same weights as Gs")
        training_variables = v
    else:
        notes.append("G: the source's training generator")
    G = _generator("G", cfg, jax.device_get(training_variables), kw)
    nets = (G, discriminator, _generator("Gs", cfg, v, kw))
    return tuple(_network(n) for n in nets), notes


def write_nvidia_pickle(
    path,
    cfg: GeneratorConfig,
    variables: dict,
    overwrite: bool = False,
    discriminator: TFNet | None = None,
    d_seed: int = 0,
    training_variables: dict | None = None,
) -> list[str]:
    """Write `path` (.pkl, atomically). Returns notes for the user (static kwargs, which G and D)."""
    from latentjax.io import atomic_write_file

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists (pass overwrite=True / --overwrite)")
    nets, notes = nvidia_networks(cfg, variables, discriminator, d_seed, training_variables)
    atomic_write_file(path, lambda f: dump(nets, f, protocol=4))
    return notes
