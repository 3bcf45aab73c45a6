"""rosinality/stylegan2-pytorch checkpoints (`.pt`: the format of pSp, e4e, ReStyle, HyperStyle)
-> (GeneratorConfig, variables), without torch and without executing anything from the file.

Layouts read: convert_weight.py's `{g_ema, latent_avg[, g, d]}`; train.py's `{g, d, g_ema,
g_optim, d_optim, args, ada_aug_p}` (`args` is an `argparse.Namespace`, mapped to an inert
record); pSp/e4e's `{state_dict: {encoder.*, decoder.*}, latent_avg, opts}` (the decoder); a bare
`g_ema` state dict. Size, style_dim, n_mlp and every width are read from tensor shapes:
rosinality's `Generator` derives widths from `channel_multiplier`, but checkpoints with other
widths exist, so that argument is never trusted.

Name map (checked against rosinality's code by the golden fixtures, shared/golden/README.md):
`style.{i+1}` = mapping fc{i} (EqualLinear with lr_mul = lr_mlp, 0.01 unless `args` says
otherwise: stored x1/lr_mul exactly like ours); `input.input` [1,C,4,4] = const; `conv1` =
b4.conv1, `to_rgb1` = b4.torgb, `convs.{2k}`, `convs.{2k+1}`, `to_rgbs.{k}` = conv0 (2x up),
conv1 and torgb of block 2^(k+3); `noises.noise_j` = noise layer j ("const" noise).
`*.conv.weight` [1,O,I,k,k]; the up-sampling convs are flipped against TF's orientation (as in
NVIDIA's PyTorch port); `*.conv.modulation` = affine (bias includes the +1); `*.noise.weight`
[1] = noise_strength; `*.activate.bias` = bias; `to_rgb*.bias` [1,3,1,1]; `*.blur.kernel` and
`*.upsample.kernel` = outer(taps)/sum^2 x 4, the resample filter.
"""

from __future__ import annotations

import warnings

import numpy as np

from latentjax.config import GeneratorConfig
from latentjax.convert.safe_pickle import BUILTIN_GLOBALS, Record
from latentjax.convert.torch_storage import load_torch_file
from latentjax.convert.variables import build_variables
from latentjax.errors import LoadError, UnsupportedModelError
from latentjax.ops.fir import canonical_taps

LR_MLP = 0.01  # rosinality's Generator(lr_mlp=0.01) default, used by every encoder repo
MEAN_LATENT_SAMPLES = 4096  # rosinality's generate.py: g_ema.mean_latent(4096)


class NamespaceRecord(Record):
    """`argparse.Namespace` (train.py's `args`): its attributes as a plain dict, nothing run."""

    def as_dict(self) -> dict:
        return dict(self.state) if isinstance(self.state, dict) else dict(self.kwargs)


ROSINALITY_GLOBALS = {**BUILTIN_GLOBALS, ("argparse", "Namespace"): NamespaceRecord}


def layer_table(cfg: GeneratorConfig) -> list[tuple[str, str, str, int | None]]:
    """(rosinality module, our synthesis layer, kind, noise index) in rosinality's state_dict
    order. kind: 'conv' (3x3), 'up' (3x3 with 2x up-sampling) or 'rgb' (1x1 ToRGB)."""
    rows = [("conv1", "b4_conv1", "conv", 0), ("to_rgb1", "b4_torgb", "rgb", None)]
    for k, res in enumerate(cfg.block_resolutions[1:]):
        rows += [(f"convs.{2 * k}", f"b{res}_conv0", "up", 2 * k + 1)]
        rows += [(f"convs.{2 * k + 1}", f"b{res}_conv1", "conv", 2 * k + 2)]
    rows += [(f"to_rgbs.{k}", f"b{res}_torgb", "rgb", None) for k, res in enumerate(cfg.block_resolutions[1:])]
    return rows


def taps_from_kernel(kernel: np.ndarray, what: str) -> tuple[float, ...]:
    """rosinality's 2-D resample kernel (outer(t, t) / sum(t)^2 x 4) -> 1-D taps, smallest 1.

    Only 4-tap separable kernels: rosinality's and NVIDIA's paddings agree for those (checked
    on [1, 3, 3, 1] by the fixtures); other lengths are refused rather than guessed.
    """
    k = np.asarray(kernel, np.float64)
    if k.shape != (4, 4):
        raise UnsupportedModelError(
            f"{what}: resample kernel of shape {k.shape}; only 4x4 ([1,3,3,1]-like) is supported"
        )
    t = k.sum(axis=1)
    if np.any(t <= 0) or not np.allclose(np.outer(t, t) / t.sum(), k, rtol=1e-5, atol=1e-7):
        raise UnsupportedModelError(f"{what}: resample kernel is not a positive separable filter")
    return canonical_taps(t)


def _args_dict(args) -> dict:
    if isinstance(args, NamespaceRecord):
        return args.as_dict()
    return dict(args) if isinstance(args, dict) else {}


def _select(obj, source: str, network: str | None) -> tuple[dict, np.ndarray | None, dict, str]:
    """The file's object -> (state dict, latent_avg or None, args, which entry)."""
    if not isinstance(obj, dict):
        raise LoadError(f"{source}: a torch file holding {type(obj).__name__}, not a rosinality checkpoint dict")
    if "style.1.weight" in obj:  # a bare g_ema.state_dict()
        return obj, None, {}, "state dict"
    sd = obj.get("state_dict")
    if isinstance(sd, dict) and any(str(k).startswith("decoder.") for k in sd):  # pSp / e4e / ReStyle
        if network not in (None, "decoder"):
            raise LoadError(f"{source}: an encoder checkpoint holds only 'decoder', not '{network}'")
        dec = {str(k)[len("decoder.") :]: v for k, v in sd.items() if str(k).startswith("decoder.")}
        return dec, obj.get("latent_avg"), _args_dict(obj.get("opts")), "decoder"
    name = network or "g_ema"
    gens = [k for k in ("g_ema", "g") if isinstance(obj.get(k), dict)]
    if name not in gens:
        raise LoadError(
            f"{source}: no generator '{name}' in this checkpoint (generators: {gens or 'none'}; "
            f"keys: {sorted(map(str, obj))[:12]})"
        )
    # latent_avg is the mean w of g_ema; the training generator 'g' gets its own, computed
    avg = obj.get("latent_avg") if name == "g_ema" else None
    return obj[name], avg, _args_dict(obj.get("args")), name


def _latent_avg(a, style_dim: int, source: str) -> np.ndarray:
    """[D], [1, D] or [n_latent, D] with equal rows (pSp stores it repeated) -> [D]."""
    a = np.asarray(a)
    if a.dtype.kind != "f" or a.shape[-1:] != (style_dim,) or a.ndim > 2:
        raise LoadError(f"{source}: latent_avg has shape {a.shape}, expected [{style_dim}]")
    a = a.reshape(-1, style_dim)
    if not np.array_equal(a, np.broadcast_to(a[:1], a.shape)):
        raise UnsupportedModelError(f"{source}: latent_avg rows differ (a per-layer average); expected one w")
    return a[0].astype(np.float32)


def _mean_w(cfg: GeneratorConfig, arrays: dict) -> np.ndarray:
    """rosinality's mean_latent: mean of the mapping over 4096 standard-normal z (seed 0)."""
    import jax.numpy as jnp

    from latentjax.nets.mapping import mapping

    layers = [
        {"weight": jnp.asarray(arrays[("params", "mapping_network", f"fc{i}_weight")]),
         "bias": jnp.asarray(arrays[("params", "mapping_network", f"fc{i}_bias")])}
        for i in range(cfg.mapping_layers)
    ]  # fmt: skip
    z = np.random.default_rng(0).standard_normal((MEAN_LATENT_SAMPLES, cfg.z_dim)).astype(np.float32)
    return np.asarray(mapping(layers, jnp.asarray(z), cfg).mean(axis=0))


def state_dict_to_variables(
    sd: dict, latent_avg, args: dict, source: str, what: str = "g_ema"
) -> tuple[GeneratorConfig, dict]:
    """A rosinality `Generator.state_dict()` (numpy arrays) -> (config, variables).

    Every tensor must be used (as `load_state_dict(strict=True)`): an unknown one means an
    architecture we do not build (e.g. rosinality's SWAGAN), and is refused by name.
    """
    left = dict(sd)
    for k, v in left.items():
        if not isinstance(v, np.ndarray) or v.dtype.kind != "f":
            raise LoadError(f"{source}: {what} entry '{k}' is {type(v).__name__}, not a float tensor")

    def take(key: str, ndim: int) -> np.ndarray:
        if key not in left:
            raise LoadError(f"{source}: {what} lacks tensor '{key}'")
        a = left.pop(key)
        if a.ndim != ndim:
            raise LoadError(f"{source}: {what} tensor '{key}' has shape {a.shape}, expected {ndim} dimensions")
        return a.astype(np.float32)

    if "style.1.weight" not in left or "input.input" not in left:
        raise LoadError(f"{source}: {what} is not a rosinality StyleGAN2 generator (no style.1.weight / input.input)")
    n_mlp = 0
    while f"style.{n_mlp + 1}.weight" in left:
        n_mlp += 1
    n_rgb = 0
    while f"to_rgbs.{n_rgb}.conv.weight" in left:
        n_rgb += 1
    const = take("input.input", 4)
    style_dim = left["style.1.weight"].shape[-1]
    res = 2 ** (n_rgb + 2)
    widths = [const.shape[1]] + [
        left.get(f"convs.{2 * k}.conv.weight", np.zeros((1, 0))).shape[1] for k in range(n_rgb)
    ]
    kernels = [f"convs.{2 * k}.conv.blur.kernel" for k in range(n_rgb)] + [
        f"to_rgbs.{k}.upsample.kernel" for k in range(n_rgb)
    ]
    taps = (1.0, 3.0, 3.0, 1.0)
    for i, key in enumerate(kernels):
        t = taps_from_kernel(take(key, 2), f"{source}: {what} {key}")
        if i and t != taps:
            raise UnsupportedModelError(f"{source}: {what} uses different resample kernels in different layers")
        taps = t
    lr_mul = float(args.get("lr_mlp", LR_MLP))
    try:
        cfg = GeneratorConfig(
            arch="stylegan2",
            resolution=res,
            z_dim=style_dim,
            w_dim=style_dim,
            channels=tuple(widths),
            img_channels=left.get("to_rgb1.conv.weight", np.zeros((1, 3))).shape[1],
            mapping_layers=n_mlp,
            mapping_fmaps=style_dim,
            mapping_lr_mul=lr_mul,
            resample_taps=taps,
            name=source,
        )
    except ValueError as e:
        raise LoadError(f"{source}: {what} does not describe a StyleGAN2 generator ({e})") from None

    a: dict[tuple[str, ...], np.ndarray] = {}
    for i in range(n_mlp):
        a[("params", "mapping_network", f"fc{i}_weight")] = take(f"style.{i + 1}.weight", 2).T
        a[("params", "mapping_network", f"fc{i}_bias")] = take(f"style.{i + 1}.bias", 1)
    S = "synthesis_network"
    a[("params", S, "const")] = const[0].transpose(1, 2, 0)
    for ros, ours, kind, noise in layer_table(cfg):
        w = take(f"{ros}.conv.weight", 5)
        if w.shape[0] != 1:
            raise LoadError(
                f"{source}: {what} tensor '{ros}.conv.weight' has shape {w.shape}, expected [1, O, I, k, k]"
            )
        w = w[0].transpose(2, 3, 1, 0)  # [O, I, k, k] -> [k, k, I, O]
        a[("params", S, ours, "weight")] = w[::-1, ::-1] if kind == "up" else w
        a[("params", S, ours, "affine_weight")] = take(f"{ros}.conv.modulation.weight", 2).T
        a[("params", S, ours, "affine_bias")] = take(f"{ros}.conv.modulation.bias", 1)
        if kind == "rgb":
            a[("params", S, ours, "bias")] = take(f"{ros}.bias", 4).reshape(-1)
        else:
            a[("params", S, ours, "noise_strength")] = take(f"{ros}.noise.weight", 1).reshape(())
            a[("params", S, ours, "bias")] = take(f"{ros}.activate.bias", 1)
            a[("buffers", S, ours, "noise_const")] = take(f"noises.noise_{noise}", 4)[0, 0]
    if left:
        raise UnsupportedModelError(
            f"{source}: {what} has tensors a rosinality StyleGAN2 Generator of this shape does not: "
            f"{sorted(left)[:6]} (another architecture, e.g. SWAGAN?)"
        )
    if latent_avg is None:
        warnings.warn(
            f"{source}: no latent_avg stored for {what}; truncation uses the mean of the mapping over "
            f"{MEAN_LATENT_SAMPLES} random z (seed 0), as rosinality's generate.py computes it",
            stacklevel=3,
        )
        w_avg = _mean_w(cfg, a)
    else:
        w_avg = _latent_avg(latent_avg, style_dim, source)
    a[("buffers", "mapping_network", "w_avg")] = w_avg
    return cfg, build_variables(cfg, a, source)


def read_rosinality(data: bytes, source: str, network: str | None = None) -> tuple[GeneratorConfig, dict]:
    """Bytes of a rosinality `.pt` (either torch.save format) -> (config, variables).

    network: 'g_ema' (default) or 'g' (train.py's training generator); 'decoder' for pSp-style
    files. Raises LoadError / UnsafePickleError / UnsupportedModelError naming `source`.
    """
    obj = load_torch_file(data, ROSINALITY_GLOBALS, source)
    sd, avg, args, what = _select(obj, source, network)
    return state_dict_to_variables(sd, avg, args, source, what)
