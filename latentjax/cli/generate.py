"""`latentjax generate`: render images from seeds or saved latents."""

from __future__ import annotations

from latentjax.cli._common import distributed_args, model_args, noise_mode_arg, progress_bar, start_distributed, vec2


def cmd_generate(args) -> int:
    import jax

    from latentjax import load_generator
    from latentjax.render import load_ws
    from latentjax.seeds import parse_seeds
    from latentjax.workflows import generate_images

    start_distributed(args)
    G = load_generator(args.model, args.network)
    if args.translate is not None or args.rotate is not None:
        G = G.with_transform(args.translate or (0.0, 0.0), args.rotate or 0.0)
    ws = load_ws(args.ws, G) if args.ws else None
    seeds = None if args.ws else parse_seeds(args.seeds)
    first = jax.process_index() == 0
    bar = progress_bar(disabled=args.quiet or not first, unit="img", min_total=2 * args.batch)
    res = generate_images(
        G,
        args.outdir,
        seeds=seeds,
        ws=ws,
        psi=args.trunc,
        cutoff=args.trunc_cutoff,
        noise_mode=args.noise_mode,
        noise_seed=args.noise_seed,
        batch=args.batch,
        grid_cols=args.grid_cols,
        progress=bar.update_to,
    )
    bar.close()
    if first:
        print(f"wrote {res.count} images, grid.png and latents.npz to {res.outdir}")
    return 0


def register(sub) -> None:
    g = sub.add_parser("generate", help="render images from seeds or saved latents")
    model_args(g)
    g.add_argument("--seeds", default="0-15", help="e.g. 0-63 or 1,5,7-9 (default: %(default)s)")
    g.add_argument("--ws", default=None, help=".npz with 'ws' [N,num_ws,w_dim] or 'w' [N,w_dim] instead of seeds")
    g.add_argument("--trunc", type=float, default=1.0, help="truncation psi (default: %(default)s)")
    g.add_argument("--trunc-cutoff", type=int, default=None, help="truncate layers < this (default: all)")
    noise_mode_arg(g)
    g.add_argument("--noise-seed", type=int, default=0, help="key for --noise-mode random")
    g.add_argument(
        "--translate", type=vec2, default=None, metavar="X,Y", help="StyleGAN3 only: translate the image, e.g. 0.3,1"
    )
    g.add_argument("--rotate", type=float, default=None, metavar="DEG", help="StyleGAN3 only: rotation angle")
    g.add_argument("--batch", type=int, default=16)
    g.add_argument("--grid-cols", type=int, default=None)
    g.add_argument("--outdir", default="out")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    distributed_args(g)
    g.set_defaults(func=cmd_generate)
