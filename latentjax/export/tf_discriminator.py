"""The discriminator of a TF-era NVIDIA pickle: carried over from the source file when it has
one (TF pickle: as stored; PyTorch snapshot: converted to TF names and layout), else a fresh,
clearly marked untrained one of the matching configuration.

TF `D_stylegan2` ("resnet") variables, as NVIDIA's legacy.py maps them to its PyTorch
Discriminator: `{R}x{R}/FromRGB` (1x1, top block only); per block r = R..8 `{r}x{r}/Conv0`
(3x3, ch(r) -> ch(r)), `{r}x{r}/Conv1_down` (3x3, ch(r) -> ch(r/2)), `{r}x{r}/Skip` (1x1, no
bias); then `4x4/Conv` (ch(4) + mbstd features -> ch(4)), `4x4/Dense0` (16 ch(4) -> ch(4)),
`Output` (ch(4) -> 1). Conv weights [k, k, in, out], dense [in, out]; ch(r) = min(2
fmap_base // r, fmap_max).

An untrained D is marked in extra state entries (`untrained`, `seed`) and in its
build_module_src, not in static_kwargs: NVIDIA's legacy.py raises on any static kwarg it does
not know, so a marker there would make the file unloadable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from latentjax.config import GeneratorConfig
from latentjax.errors import ExportError
from latentjax.ops.fir import canonical_taps

UNTRAINED = "UNTRAINED: fresh random weights (N(0,1), zero biases); the source had no usable discriminator"


@dataclass(frozen=True)
class TFNet:
    """One `dnnlib.tflib.network.Network` state to write: variables [(name, array or 0-d)]."""

    name: str
    func: str
    static_kwargs: dict
    variables: list
    components: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # additional state entries (notes for readers)


def fmap_for(resolutions, widths, what: str) -> tuple[int, int]:
    """(fmap_base, fmap_max) with min(2 fmap_base // res, fmap_max) = widths at resolutions,
    the smallest such fmap_base. ExportError if the widths do not have that form."""
    fmax = max(widths)
    lo, hi = 0, None  # channel_base = 2 fmap_base lies in [lo, hi)
    for r, c in zip(resolutions, widths):
        lo = max(lo, c * r)
        if c < fmax:
            hi = (c + 1) * r if hi is None else min(hi, (c + 1) * r)
    base = lo + lo % 2
    if hi is not None and base >= hi:
        raise ExportError(
            f"{what} cannot be written as an NVIDIA pickle: widths {dict(zip(resolutions, widths))} are not "
            "min(channel_base // res, channel_max) for any channel_base, channel_max (NVIDIA's loaders "
            "derive widths that way)"
        )
    return base // 2, fmax


def resample_kwargs(taps) -> dict:
    """The `resample_kernel` static kwarg, written only when it is not the default [1, 3, 3, 1]."""
    t = canonical_taps(taps)
    return {} if t == (1.0, 3.0, 3.0, 1.0) else {"resample_kernel": list(t)}


def random_discriminator(cfg: GeneratorConfig, fmap_base: int, fmap_max: int, seed: int = 0) -> TFNet:
    """An untrained `D_stylegan2` (resnet, minibatch-stddev group 4) for this generator's
    resolution, image channels and widths: N(0, 1) weights, zero biases (NVIDIA's initialisation)."""
    if cfg.resolution < 8:
        raise ExportError(f"{cfg.name or 'model'}: no discriminator can be built below 8x8")
    rng = np.random.default_rng(seed)

    def ch(r):
        return min(2 * fmap_base // r, fmap_max)

    def layer(name, shape, bias=True):
        out = [(f"{name}/weight", rng.standard_normal(shape).astype(np.float32))]
        return out + ([(f"{name}/bias", np.zeros(shape[-1], np.float32))] if bias else [])

    R, c4 = cfg.resolution, ch(4)
    var = layer(f"{R}x{R}/FromRGB", (1, 1, cfg.img_channels, ch(R)))
    for r in cfg.block_resolutions[:0:-1]:
        var += layer(f"{r}x{r}/Conv0", (3, 3, ch(r), ch(r)))
        var += layer(f"{r}x{r}/Conv1_down", (3, 3, ch(r), ch(r // 2)))
        var += layer(f"{r}x{r}/Skip", (1, 1, ch(r), ch(r // 2)), bias=False)
    var += layer("4x4/Conv", (3, 3, c4 + 1, c4)) + layer("4x4/Dense0", (16 * c4, c4)) + layer("Output", (c4, 1))
    kw = dict(num_channels=cfg.img_channels, resolution=R, label_size=0, fmap_base=fmap_base, fmap_max=fmap_max)
    kw.update(mbstd_group_size=4, mbstd_num_features=1, **resample_kwargs(cfg.resample_taps))
    return TFNet("D", "D_stylegan2", kw, var, extra={"untrained": UNTRAINED, "seed": seed})


def _tf_net(rec) -> TFNet:
    """A stored TF Network state, as is (its embedded source is not carried)."""
    s = rec.state
    comps = {k: _tf_net(v) for k, v in s["components"].items()}
    return TFNet(s["name"], s["build_func_name"], dict(s["static_kwargs"]), list(s["variables"]), comps)


def _from_snapshot(D, source: str) -> TFNet:
    """stylegan2-ada-pytorch's Discriminator (persistence record) -> TF names and layout, the
    inverse of NVIDIA legacy.py's convert_tf_discriminator."""
    from latentjax.convert.torch_pickle import module_tensor, submodule

    def mod(rec, name):
        return submodule(rec, name, source)

    def tensor(rec, name):
        return module_tensor(rec, name, source)

    st = D.meta["state"]
    if int(st.get("c_dim", 0)) != 0:
        raise ExportError(f"{source}: conditional discriminator (c_dim={st['c_dim']})")
    R, blocks = int(st["img_resolution"]), [int(r) for r in st["block_resolutions"]]
    b4 = mod(D, "b4")
    var, widths = [], {}
    for r in blocks:
        b = mod(D, f"b{r}")
        if b.meta["state"].get("architecture") != "resnet":
            raise ExportError(f"{source}: discriminator block b{r} is not 'resnet'")
        layers = ([("fromrgb", "FromRGB")] if r == R else []) + [("conv0", "Conv0"), ("conv1", "Conv1_down")]
        for n, tf in layers + [("skip", "Skip")]:
            layer = mod(b, n)
            var.append((f"{r}x{r}/{tf}/weight", tensor(layer, "weight").transpose(2, 3, 1, 0)))  # OIkk -> kkIO
            if n != "skip":
                var.append((f"{r}x{r}/{tf}/bias", tensor(layer, "bias")))
        widths[r] = tensor(mod(b, "conv0"), "weight").shape[0]
    if b4.meta["state"].get("architecture") != "resnet":
        raise ExportError(f"{source}: discriminator epilogue architecture {b4.meta['state'].get('architecture')!r}")
    conv = mod(b4, "conv")
    var += [("4x4/Conv/weight", tensor(conv, "weight").transpose(2, 3, 1, 0)), ("4x4/Conv/bias", tensor(conv, "bias"))]
    widths[4] = tensor(conv, "weight").shape[0]
    for n, tf in (("fc", "4x4/Dense0"), ("out", "Output")):
        var += [(f"{tf}/weight", tensor(mod(b4, n), "weight").T), (f"{tf}/bias", tensor(mod(b4, n), "bias"))]
    res = sorted(widths)
    fmap_base, fmap_max = fmap_for(res, [widths[r] for r in res], f"{source} (D)")
    mbstd = mod(b4, "mbstd").meta["state"]
    kw = dict(num_channels=int(st["img_channels"]), resolution=R, label_size=0, fmap_base=fmap_base, fmap_max=fmap_max)
    kw.update(mbstd_group_size=mbstd.get("group_size"), mbstd_num_features=int(mbstd.get("num_channels", 1)))
    kw.update(resample_kwargs(tensor(mod(mod(D, f"b{R}"), "conv1"), "resample_filter").sum(axis=1)))
    if conv.meta["state"].get("conv_clamp") is not None:
        kw["conv_clamp"] = float(conv.meta["state"]["conv_clamp"])
    return TFNet("D", "D_stylegan2", kw, var)


def source_discriminator(path: str | os.PathLike) -> tuple[TFNet | None, str]:
    """The discriminator stored with the generator in `path`, as a TF network, or None (with
    the reason) when there is none we can carry: rosinality files and our checkpoints hold no
    NVIDIA-format D; TF pickles carry theirs as stored; PyTorch snapshots' resnet D is converted."""
    from latentjax.convert.pickles import pickle_globals
    from latentjax.convert.safe_pickle import NetworkRecord, restricted_loads
    from latentjax.convert.tf_pickle import TF_GLOBALS
    from latentjax.convert.torch_pickle import TORCH_GLOBALS, PersistentRecord

    p = os.fspath(path)
    if not os.path.isfile(p):
        return None, "the source (a converted checkpoint) has no discriminator"
    with open(p, "rb") as f:
        data = f.read()
    if data[:1] != b"\x80":
        return None, "the source (a rosinality checkpoint) has no NVIDIA-format discriminator"
    mods = pickle_globals(data, p)
    if "dnnlib.tflib.network" in mods:
        nets = restricted_loads(data, TF_GLOBALS, p)
        D = nets[1] if isinstance(nets, tuple) and len(nets) == 3 else None
        if isinstance(D, NetworkRecord) and D.state.get("build_func_name") == "D_stylegan2":
            return _tf_net(D), f"D carried over from {p} as stored"
        return None, f"{p} holds no D_stylegan2 discriminator"
    if "torch_utils.persistence" in mods:
        snap = restricted_loads(data, TORCH_GLOBALS, p)
        D = snap.get("D") if isinstance(snap, dict) else None
        if not (isinstance(D, PersistentRecord) and D.meta.get("class_name") == "Discriminator"):
            return None, f"{p} holds no Discriminator"
        try:
            return _from_snapshot(D, p), f"D converted from {p}'s Discriminator"
        except ExportError as e:
            return None, f"its discriminator cannot be carried over ({e})"
    return None, f"{p} holds no discriminator"
