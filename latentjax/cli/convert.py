"""`latentjax convert | info`: convert between model formats; describe a model."""

from __future__ import annotations

import argparse


def cmd_convert(args) -> int:
    from latentjax.export import convert_model

    r = convert_model(args.src, args.out, args.network, args.overwrite, args.drop_conv_clamp, args.d_seed)
    c = r.config
    print(f"converted {args.src} ({c.arch}, {c.resolution}x{c.resolution}) -> {r.out} ({r.format})")
    for note in r.notes:
        print(f"  {note}")
    return 0


def cmd_info(args) -> int:
    from latentjax import load_generator

    G = load_generator(args.model, args.network)
    c = G.config
    print(f"architecture : {c.arch}")
    print(f"resolution   : {c.resolution}x{c.resolution}, {c.img_channels} channels")
    print(f"latents      : z_dim {c.z_dim}, w_dim {c.w_dim}, num_ws {c.num_ws}")
    print(f"mapping      : {c.mapping_layers} layers x {c.mapping_fmaps}, lr_mul {c.mapping_lr_mul}")
    if c.arch == "stylegan3":
        kind = "R (1x1 convs, radial filters)" if any(c.sg3_down_radial) else "T"
        print(
            f"stylegan3    : {kind}, input {c.sg3_sizes[0]}^2 at rate {c.sg3_sampling_rate:g}, "
            f"output x {c.sg3_output_scale:g}"
        )
        print("layers       : " + ", ".join(c.sg3_layer_names))
    else:
        print("channels     : " + ", ".join(f"{r}:{ch}" for r, ch in zip(c.block_resolutions, c.channels)))
    if c.arch == "stylegan":
        print(f"fused up     : {', '.join(str(r) for r, f in zip(c.block_resolutions[1:], c.fused_up) if f) or 'none'}")
    if c.conv_clamp is not None:
        print(f"conv clamp   : {c.conv_clamp}")
    print(f"noise inputs : {len(G.noise_shapes)} ({', '.join(f'{h}x{w}' for h, w in G.noise_shapes)})")
    print(f"parameters   : {G.num_params:,}")
    return 0


def register(sub) -> None:
    c = sub.add_parser(
        "convert",
        help="convert a model: OUT.pt = rosinality checkpoint, OUT.pkl = NVIDIA TF-era pickle, else our checkpoint dir",
    )
    c.add_argument("src", help="official pickle, rosinality .pt, converted checkpoint dir or shipped model name")
    c.add_argument("out", help="*.pt / *.pth (rosinality), *.pkl (NVIDIA (G, D, Gs) pickle) or a directory")
    c.add_argument("--network", default=None, help="Gs/G (TF), G_ema/G (PyTorch), g_ema/g (rosinality)")
    c.add_argument("--overwrite", action="store_true")
    c.add_argument(
        "--drop-conv-clamp",
        action="store_true",
        help=".pt only: export an ADA model whose conv_clamp rosinality cannot express (images agree while "
        "no activation reaches the clamp)",
    )
    c.add_argument("--d-seed", type=int, default=0, help=".pkl only: seed of the untrained D for a G-only source")
    c.set_defaults(func=cmd_convert)

    i = sub.add_parser("info", help="print architecture, resolution, latent sizes, parameter count")
    i.add_argument("model")
    i.add_argument("--network", default=None)
    i.set_defaults(func=lambda a: cmd_info(argparse.Namespace(model=a.model, network=a.network)))
