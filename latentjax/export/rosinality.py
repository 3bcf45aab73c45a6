"""Our StyleGAN2 -> a rosinality/stylegan2-pytorch checkpoint (`.pt`, what pSp, e4e, ReStyle
and HyperStyle load), written without torch.

The file is `{"g_ema": state_dict, "latent_avg": [style_dim], "args": dict}`, loadable with
`torch.load(path, weights_only=True)` (only tensors, dicts, lists, numbers and strings inside).
`args` holds what building rosinality's `Generator` takes: size, style_dim (also as train.py's
`latent`), n_mlp, channel_multiplier (None when the widths are not rosinality's for any) and
the widths themselves, blur_kernel and lr_mlp.

Mapping: rosinality's EqualLinear scales weights by lr_mlp / sqrt(style_dim) at run time and
encoders build it with lr_mlp = 0.01, so our lr multiplier is folded into the stored weights.
Its mapping is style_dim wide everywhere: a narrower z or hidden width is zero-padded, which is
exact for z padded with zeros (pixel norm then divides by sqrt(style_dim) instead of
sqrt(z_dim); the first layer absorbs that factor).
"""

from __future__ import annotations

import math

import jax
import numpy as np

from latentjax.config import GeneratorConfig
from latentjax.convert.rosinality import LR_MLP, layer_table
from latentjax.errors import ExportError
from latentjax.ops.fir import canonical_taps, setup_filter

_ROSINALITY_WIDTHS = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256, 128: 128, 256: 64, 512: 32, 1024: 16}
_FIXED_WIDTH = 512  # resolutions <= 32 are 512 wide whatever the multiplier


def channel_multiplier(cfg: GeneratorConfig) -> int | None:
    """The `channel_multiplier` whose hard-coded widths (model.py Generator.channels) are this
    model's, or None if none is."""
    for cm in range(1, 33):
        want = [_FIXED_WIDTH if r <= 32 else _ROSINALITY_WIDTHS.get(r, 0) * cm for r in cfg.block_resolutions]
        if want == list(cfg.channels):
            return cm
    return None


def _check(cfg: GeneratorConfig, drop_conv_clamp: bool) -> None:
    why = None
    if cfg.arch != "stylegan2":
        why = f"it is a {cfg.arch} generator; rosinality's Generator is StyleGAN2 only"
    elif cfg.img_channels != 3:
        why = f"it has {cfg.img_channels} image channels; rosinality's ToRGB is hard-wired to 3"
    elif not cfg.normalize_latents:
        why = "its mapping does not pixel-normalise z; rosinality's always does"
    elif len(cfg.resample_taps) != 4:
        why = f"its resample filter has {len(cfg.resample_taps)} taps; only 4-tap filters pad as NVIDIA's there"
    elif cfg.z_dim > cfg.w_dim or cfg.mapping_fmaps > cfg.w_dim:
        why = (
            f"its mapping is wider than w (z_dim {cfg.z_dim}, hidden {cfg.mapping_fmaps}, w_dim {cfg.w_dim}); "
            "rosinality's mapping is style_dim = w_dim wide everywhere"
        )
    elif cfg.conv_clamp is not None and not drop_conv_clamp:
        why = (
            f"it clamps activations at +-{cfg.conv_clamp} (StyleGAN2-ADA conv_clamp) and rosinality's layers cannot; "
            "images agree only while no activation reaches the clamp. Pass drop_conv_clamp=True "
            "(--drop-conv-clamp) to export without it"
        )
    if why:
        raise ExportError(f"{cfg.name or 'model'} cannot be written as a rosinality checkpoint: {why}")


def _mapping(cfg: GeneratorConfig, params: dict) -> tuple[dict, list[str]]:
    """Our fc{i} -> rosinality's style.{i+1}, padded to style_dim and rescaled for lr_mlp 0.01."""
    w = cfg.w_dim
    dims = [cfg.z_dim] + [cfg.mapping_fmaps] * (cfg.mapping_layers - 1) + [w]
    lr = cfg.mapping_lr_mul / LR_MLP
    sd = {}
    for i in range(cfg.mapping_layers):
        wt = np.asarray(params[f"fc{i}_weight"], np.float64)  # [in, out]
        b = np.asarray(params[f"fc{i}_bias"], np.float64)
        # effective weight: ours wt * lr_mul / sqrt(in); theirs W * 0.01 / sqrt(w). Layer 0's input
        # is pixel-normed over w (padded) instead of z dims: x larger by sqrt(w / z), so the
        # sqrt factors cancel there.
        scale = lr if i == 0 else lr * math.sqrt(w / dims[i])
        W = np.zeros((w, w), np.float64)
        W[: dims[i + 1], : dims[i]] = wt.T * scale
        B = np.zeros(w, np.float64)
        B[: dims[i + 1]] = b * lr
        sd[f"style.{i + 1}.weight"], sd[f"style.{i + 1}.bias"] = W.astype(np.float32), B.astype(np.float32)
    notes = []
    if cfg.mapping_lr_mul != LR_MLP:
        notes.append(f"mapping lr multiplier {cfg.mapping_lr_mul} folded into the weights (x{lr:g}): lr_mlp={LR_MLP}")
    if cfg.z_dim < w:
        notes.append(
            f"z_dim {cfg.z_dim} < style_dim {w}: the first mapping layer is zero-padded to {w} inputs. "
            f"Exact for z padded with zeros (z_{w} = [z, 0...0]); a random {w}-d z is a different input distribution"
        )
    if cfg.mapping_fmaps < w and cfg.mapping_layers > 1:
        notes.append(f"hidden mapping width {cfg.mapping_fmaps} zero-padded to {w} (exact)")
    return sd, notes


def rosinality_checkpoint(
    cfg: GeneratorConfig, variables: dict, drop_conv_clamp: bool = False
) -> tuple[dict, list[str]]:
    """(config, variables) -> ({'g_ema': state dict, 'latent_avg', 'args'} of numpy arrays and
    plain data, notes for the user). Raises ExportError for what rosinality cannot express."""
    _check(cfg, drop_conv_clamp)
    v = jax.device_get(variables)
    P, B = v["params"]["synthesis_network"], v["buffers"]["synthesis_network"]
    sd, notes = _mapping(cfg, v["params"]["mapping_network"])
    sd["input.input"] = np.asarray(P["const"], np.float32).transpose(2, 0, 1)[None]
    kernel = setup_filter(cfg.resample_taps, gain=4.0)  # rosinality's make_kernel(k) * 2^2
    noises = {}
    for ros, ours, kind, noise in layer_table(cfg):
        p = {k: np.asarray(a, np.float32) for k, a in P[ours].items()}
        w = p["weight"][::-1, ::-1] if kind == "up" else p["weight"]  # [k, k, I, O], TF orientation
        conv = {f"{ros}.conv.weight": np.ascontiguousarray(w.transpose(3, 2, 0, 1)[None])}
        if kind == "up":
            conv[f"{ros}.conv.blur.kernel"] = kernel
        conv[f"{ros}.conv.modulation.weight"] = np.ascontiguousarray(p["affine_weight"].T)
        conv[f"{ros}.conv.modulation.bias"] = p["affine_bias"]
        if kind == "rgb":
            sd[f"{ros}.bias"] = p["bias"].reshape(1, -1, 1, 1)
            if ros != "to_rgb1":
                sd[f"{ros}.upsample.kernel"] = kernel
            sd.update(conv)
        else:
            sd.update(conv)
            sd[f"{ros}.noise.weight"] = p["noise_strength"].reshape(1)
            sd[f"{ros}.activate.bias"] = p["bias"]
            noises[noise] = np.asarray(B[ours]["noise_const"], np.float32)[None, None]
    sd.update({f"noises.noise_{j}": noises[j] for j in sorted(noises)})

    cm = channel_multiplier(cfg)
    taps = [int(t) if t.is_integer() else t for t in canonical_taps(cfg.resample_taps)]
    args = {
        "size": cfg.resolution,
        "style_dim": cfg.w_dim,
        "latent": cfg.w_dim,  # train.py / generate.py call it args.latent
        "n_mlp": cfg.mapping_layers,
        "channel_multiplier": cm,
        "channels": dict(zip(cfg.block_resolutions, cfg.channels)),
        "blur_kernel": taps,
        "lr_mlp": LR_MLP,
        "z_dim": cfg.z_dim,  # < style_dim: feed z padded with zeros (see notes)
        "written_by": "latentjax",
        "source": cfg.name,
    }
    if cm is None:
        notes.append(
            f"widths {args['channels']} are not rosinality's for any channel_multiplier (512 up to 32x32): "
            "build its Generator with `channels` set to args['channels'] before the layers are made"
        )
    if cfg.conv_clamp is not None:
        notes.append(
            f"conv_clamp {cfg.conv_clamp} dropped: images match only while no activation reaches +-{cfg.conv_clamp}"
        )
    avg = np.asarray(v["buffers"]["mapping_network"]["w_avg"], np.float32)
    return {"g_ema": sd, "latent_avg": avg, "args": args}, notes


def write_rosinality(
    path, cfg: GeneratorConfig, variables: dict, overwrite: bool = False, drop_conv_clamp: bool = False
) -> list[str]:
    """Write `path` (.pt, torch.save zip format, atomically). Returns the notes for the user,
    the first being the `args` needed to build rosinality's Generator."""
    import re
    from pathlib import Path

    from latentjax.export.torch_zip import ordered_dict, write_torch_zip
    from latentjax.io import atomic_write_file

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists (pass overwrite=True / --overwrite)")
    ckpt, notes = rosinality_checkpoint(cfg, variables, drop_conv_clamp)
    archive = re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem) or "archive"
    tree = {**ckpt, "g_ema": ordered_dict(ckpt["g_ema"])}
    atomic_write_file(path, lambda f: write_torch_zip(f, tree, archive))
    a = ckpt["args"]
    build = (
        f"Generator(size={a['size']}, style_dim={a['style_dim']}, n_mlp={a['n_mlp']}, "
        f"channel_multiplier={a['channel_multiplier']}, blur_kernel={a['blur_kernel']}, lr_mlp={a['lr_mlp']})"
    )
    return [f"args: {a}", f"rosinality: {build}.load_state_dict(ckpt['g_ema'])"] + notes
