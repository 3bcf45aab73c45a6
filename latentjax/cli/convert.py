"""`latentjax convert | info`: convert official pickles; describe a model."""

from __future__ import annotations

import argparse


def cmd_convert(args) -> int:
    from latentjax.checkpoint import save_generator
    from latentjax.convert import read_generator_pickle

    cfg, variables = read_generator_pickle(args.pickle, args.network)
    out = save_generator(args.outdir, cfg, variables, overwrite=args.overwrite)
    print(f"converted {args.pickle} ({cfg.arch}, {cfg.resolution}x{cfg.resolution}) -> {out}")
    return 0


def cmd_info(args) -> int:
    from latentjax import load_generator

    G = load_generator(args.model, args.network)
    c = G.config
    print(f"architecture : {c.arch}")
    print(f"resolution   : {c.resolution}x{c.resolution}, {c.img_channels} channels")
    print(f"latents      : z_dim {c.z_dim}, w_dim {c.w_dim}, num_ws {c.num_ws}")
    print(f"mapping      : {c.mapping_layers} layers x {c.mapping_fmaps}, lr_mul {c.mapping_lr_mul}")
    print("channels     : " + ", ".join(f"{r}:{ch}" for r, ch in zip(c.block_resolutions, c.channels)))
    if c.arch == "stylegan":
        print(f"fused up     : {', '.join(str(r) for r, f in zip(c.block_resolutions[1:], c.fused_up) if f) or 'none'}")
    if c.conv_clamp is not None:
        print(f"conv clamp   : {c.conv_clamp}")
    print(f"noise inputs : {len(G.noise_shapes)} ({', '.join(f'{h}x{w}' for h, w in G.noise_shapes)})")
    print(f"parameters   : {G.num_params:,}")
    return 0


def register(sub) -> None:
    c = sub.add_parser("convert", help="convert an official pickle to an orbax checkpoint directory")
    c.add_argument("pickle")
    c.add_argument("outdir")
    c.add_argument("--network", default=None, help="Gs/G/D (TF) or G_ema/G (PyTorch); default Gs / G_ema")
    c.add_argument("--overwrite", action="store_true")
    c.set_defaults(func=cmd_convert)

    i = sub.add_parser("info", help="print architecture, resolution, latent sizes, parameter count")
    i.add_argument("model")
    i.add_argument("--network", default=None)
    i.set_defaults(func=lambda a: cmd_info(argparse.Namespace(model=a.model, network=a.network)))
